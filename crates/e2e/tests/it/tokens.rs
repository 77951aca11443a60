//! The Tokens page in headless Chromium against a real `runboard` behind the SSO stand-in
//! (issue 22): an administrator makes a token from the keyboard and sees its text once,
//! the list shows it without the text, axe-core finds no serious violation in light and
//! dark, revoking asks first; someone who is no administrator sees no Tokens link.

use anyhow::{Result, ensure};
use fantoccini::key::Key;
use runboard_e2e::{
    StackOptions,
    axe::serious_violations,
    browser::{PAGE_TIMEOUT, artifacts_dir},
    front_door::Identity,
    scenario::scenario,
    stack::PROJECT,
    wait_for,
};
use serde_json::json;

const ADMIN: &str = "admin@corp.example";

fn as_admin() -> StackOptions {
    StackOptions {
        run_users: Some(vec![ADMIN.into()]),
        admin_users: vec![ADMIN.into()],
        identity: Some(Identity {
            email: ADMIN.into(),
            groups: vec![],
        }),
        ..StackOptions::default()
    }
}

/// How many elements match `css` now.
async fn count(b: &runboard_e2e::Browser, css: &str) -> Result<u64> {
    let v = b
        .js(
            "return document.querySelectorAll(arguments[0]).length;",
            vec![json!(css)],
        )
        .await?;
    Ok(v.as_u64().unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_makes_a_token_from_the_keyboard_sees_it_once_and_revokes_it() {
    scenario("tokens", as_admin(), async |b, s| {
        let page = format!("/p/{PROJECT}/tokens");
        b.open(&s.url(&page)).await?;
        b.wait_css("[data-testid=nav-tokens]").await?;
        // The keyboard alone: type the name, Tab to "May start runs", Space, Enter.
        b.wait_css("[data-testid=token-name]")
            .await?
            .click()
            .await?;
        let typing = b.client.active_element().await?;
        typing.send_keys("ci-e2e").await?;
        typing.send_keys(&Key::Tab.to_string()).await?;
        b.client.active_element().await?.send_keys(" ").await?;
        b.wait_css("[data-testid=token-name]")
            .await?
            .send_keys(&Key::Enter.to_string())
            .await?;
        let text = b.wait_css("[data-testid=token-text]").await?.text().await?;
        ensure!(
            text.starts_with("rbt_") && text.len() == 56,
            "the token shown once: {text:?}"
        );
        b.wait_css("[data-testid=token-row][data-token=ci-e2e]")
            .await?;
        let row = b.wait_css("[data-testid=token-row]").await?.text().await?;
        ensure!(row.contains("read, start any run"), "{row}");
        ensure!(!row.contains(&text), "the list never shows the token");
        // The README's picture of the page: the new token shown once, above the list.
        b.screenshot(&artifacts_dir().join("screens/tokens.png"))
            .await?;

        let mut problems = Vec::new();
        for theme in ["light", "dark"] {
            if theme == "dark" {
                b.open(&s.url(&format!("{page}?theme=dark"))).await?;
                b.wait_css("[data-testid=token-row]").await?;
            }
            for v in serious_violations(b).await? {
                problems.push(format!("tokens ({theme}): {v}"));
            }
        }
        ensure!(
            problems.is_empty(),
            "axe-core found:\n{}",
            problems.join("\n")
        );

        b.wait_css("[data-testid=token-revoke]")
            .await?
            .click()
            .await?;
        b.wait_css("[data-testid=token-revoke-confirm]")
            .await?
            .click()
            .await?;
        wait_for(
            "the revoked token to leave the list",
            PAGE_TIMEOUT,
            || async { Ok((count(b, "[data-testid=token-row]").await? == 0).then_some(())) },
        )
        .await?;

        // Someone who is no administrator gets no link to the page.
        s.front.set_identity(Some(Identity {
            email: "viewer@corp.example".into(),
            groups: vec![],
        }));
        b.open(&s.url(&format!("/p/{PROJECT}/start"))).await?;
        b.wait_css("[data-testid=nav-rules]").await?;
        ensure!(
            count(b, "[data-testid=nav-tokens]").await? == 0,
            "a Tokens link"
        );
        Ok(())
    })
    .await;
}
