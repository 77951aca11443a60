//! The vocabulary catalogs are written from: product areas with realistic test phrases,
//! the steps a browser test takes there, and what its assertions expect.

/// One product area: becomes a feature whose tests and steps speak its language.
pub(super) struct Area {
    /// The feature's title and the first word of its tests' titles.
    pub(super) name: &'static str,
    /// The page a test opens first.
    pub(super) path: &'static str,
    /// Completes "{name} …" into a test title.
    pub(super) phrases: &'static [&'static str],
    /// Steps between opening the page and the final assertion.
    pub(super) actions: &'static [&'static str],
    /// (expected, what a failing run saw instead) for the final assertion.
    pub(super) checks: &'static [(&'static str, &'static str)],
}

/// Product areas, in no particular order (the generator shuffles them per seed).
pub(super) const AREAS: &[Area] = &[
    Area {
        name: "Checkout",
        path: "/cart",
        phrases: &[
            "rejects expired card",
            "accepts saved card",
            "applies discount code",
            "shows tax for EU address",
            "keeps cart after login",
            "blocks empty shipping address",
            "offers express shipping",
            "sends order confirmation email",
        ],
        actions: &[
            "click \"Checkout\"",
            "fill card number",
            "fill expiry date",
            "select shipping method",
            "click \"Pay now\"",
        ],
        checks: &[
            ("Order confirmed", "Payment declined"),
            ("Declined", "Approved"),
        ],
    },
    Area {
        name: "Login",
        path: "/login",
        phrases: &[
            "works for valid users",
            "rejects wrong password",
            "locks account after five failures",
            "remembers the user for 30 days",
            "redirects to the requested page",
            "supports single sign-on",
            "shows a captcha after repeated failures",
        ],
        actions: &[
            "fill email",
            "fill password",
            "click \"Sign in\"",
            "wait for redirect",
            "tick \"Remember me\"",
        ],
        checks: &[
            ("Welcome back", "Invalid credentials"),
            ("Dashboard", "Sign in"),
        ],
    },
    Area {
        name: "Search",
        path: "/search",
        phrases: &[
            "finds products by name",
            "suggests spelling corrections",
            "filters by price range",
            "sorts by newest first",
            "shows an empty state for no results",
            "keeps filters when paging",
            "highlights matching words",
        ],
        actions: &[
            "type \"running shoes\"",
            "press Enter",
            "open filter panel",
            "set price 20–80",
            "click \"Next page\"",
        ],
        checks: &[
            ("24 results", "0 results"),
            ("Sorted by: Newest", "Sorted by: Relevance"),
        ],
    },
    Area {
        name: "Cart",
        path: "/cart",
        phrases: &[
            "updates totals when quantity changes",
            "removes an item",
            "merges guest cart on login",
            "warns about out-of-stock items",
            "keeps items across sessions",
            "limits quantity to stock",
        ],
        actions: &[
            "add \"Trail Runner 2\" to cart",
            "set quantity to 3",
            "click \"Remove\"",
            "reload page",
        ],
        checks: &[
            ("Subtotal: €89.97", "Subtotal: €29.99"),
            ("Your cart is empty", "1 item"),
        ],
    },
    Area {
        name: "Payments",
        path: "/billing",
        phrases: &[
            "refunds a captured payment",
            "retries a failed charge",
            "stores a new card securely",
            "supports 3-D Secure challenge",
            "shows invoices for the last year",
            "exports invoices as PDF",
        ],
        actions: &[
            "open invoice list",
            "click \"Refund\"",
            "confirm dialog",
            "complete 3-D Secure challenge",
        ],
        checks: &[("Refunded", "Captured"), ("Card saved", "Card rejected")],
    },
    Area {
        name: "Account settings",
        path: "/settings",
        phrases: &[
            "changes the display name",
            "updates the email address",
            "enables two-factor authentication",
            "deletes the account after confirmation",
            "changes the interface language",
            "uploads a profile picture",
        ],
        actions: &[
            "click \"Edit profile\"",
            "fill display name",
            "click \"Save\"",
            "scan QR code",
            "choose language \"Deutsch\"",
        ],
        checks: &[
            ("Saved", "Something went wrong"),
            ("Two-factor is on", "Two-factor is off"),
        ],
    },
    Area {
        name: "Notifications",
        path: "/notifications",
        phrases: &[
            "marks all as read",
            "shows a badge for new messages",
            "mutes a conversation",
            "delivers a push notification",
            "respects quiet hours",
        ],
        actions: &[
            "open notification bell",
            "click \"Mark all as read\"",
            "toggle \"Quiet hours\"",
            "wait for push",
        ],
        checks: &[
            ("No new notifications", "3 new notifications"),
            ("Muted", "Unmuted"),
        ],
    },
    Area {
        name: "Onboarding",
        path: "/welcome",
        phrases: &[
            "completes the product tour",
            "skips the tour",
            "invites a teammate",
            "creates the first project",
            "resumes after closing the browser",
        ],
        actions: &[
            "click \"Start tour\"",
            "click \"Next\"",
            "fill teammate email",
            "click \"Create project\"",
        ],
        checks: &[
            ("You're all set", "Step 2 of 4"),
            ("Invitation sent", "Invalid email"),
        ],
    },
    Area {
        name: "Orders",
        path: "/orders",
        phrases: &[
            "lists orders newest first",
            "cancels an unshipped order",
            "tracks a shipment",
            "reorders a past purchase",
            "downloads a receipt",
            "starts a return",
        ],
        actions: &[
            "open order #10482",
            "click \"Cancel order\"",
            "click \"Track package\"",
            "click \"Buy again\"",
        ],
        checks: &[("Cancelled", "Shipped"), ("In transit", "Label created")],
    },
    Area {
        name: "Reports",
        path: "/reports",
        phrases: &[
            "exports revenue as CSV",
            "filters by date range",
            "compares two periods",
            "schedules a weekly email",
            "renders charts on mobile",
        ],
        actions: &[
            "choose range \"Last 30 days\"",
            "click \"Export\"",
            "toggle \"Compare\"",
            "click \"Schedule\"",
        ],
        checks: &[
            ("Export ready", "Export failed"),
            ("vs. previous period", "No data"),
        ],
    },
    Area {
        name: "Admin console",
        path: "/admin",
        phrases: &[
            "grants a role to a user",
            "revokes an API token",
            "shows the audit log",
            "enforces password policy",
            "deactivates a user",
        ],
        actions: &[
            "open \"Users\"",
            "search user \"dana@example.com\"",
            "choose role \"Editor\"",
            "click \"Revoke\"",
        ],
        checks: &[
            ("Role updated", "Permission denied"),
            ("Token revoked", "Token active"),
        ],
    },
    Area {
        name: "Inventory",
        path: "/inventory",
        phrases: &[
            "adjusts stock after a sale",
            "imports products from CSV",
            "warns when stock runs low",
            "moves stock between warehouses",
            "archives a discontinued product",
        ],
        actions: &[
            "open product \"Trail Runner 2\"",
            "upload products.csv",
            "set stock to 4",
            "choose warehouse \"Berlin\"",
        ],
        checks: &[
            ("Low stock", "In stock"),
            ("Import complete", "Row 12 is invalid"),
        ],
    },
];

/// Suite titles, one per suite of a feature.
pub(super) const SUITES: &[&str] = &[
    "Smoke",
    "Happy paths",
    "Validation",
    "Edge cases",
    "Mobile",
    "Accessibility",
    "Security",
    "Localisation",
];

/// Appended to phrases once a feature has used each plain phrase, so large catalogs
/// keep distinct, still readable titles.
pub(super) const VARIANTS: &[&str] = &[
    "",
    " on mobile",
    " in Safari",
    " for guest users",
    " on a slow network",
    " after session timeout",
    " in German",
    " with a screen reader",
];
