//! Machine tokens over HTTP (issue 22), for admins: list, create (the answer holds the
//! token's text, shown once), revoke; every path a shared [`Target`], answers read with
//! shared's `FromJson`, the body written with `ToJson`.

use runboard_shared::{NewToken, ProjectId, Target, TokenCreated, TokensPage};

use super::{change, get, post};
use crate::logic::failure::Failure;

/// `GET /runboard/tokens/{projId}`.
pub(crate) async fn list(project: &ProjectId) -> Result<TokensPage, Failure> {
    get(&Target::Tokens(project.clone())).await
}

/// `POST /runboard/tokens/{projId}`: `201` with the token's text. A `400` says what is
/// wrong with the name, presets or expiry in its message.
pub(crate) async fn create(project: &ProjectId, token: &NewToken) -> Result<TokenCreated, Failure> {
    post(&Target::TokenCreate(project.clone()), token).await
}

/// `DELETE /runboard/tokens/{projId}/{name}`: `204`. Sent with the JSON content type a
/// change needs to pass the proxy's CSRF rule, though it has no body.
pub(crate) async fn revoke(project: &ProjectId, name: &str) -> Result<(), Failure> {
    let target = Target::TokenRevoke(project.clone(), name.to_owned());
    change("DELETE", &target, None).await.map(drop)
}
