//! Notifications over HTTP (issue 22): the project's channels and their last deliveries,
//! read with shared's `FromJson` through [`api`](super)'s own `get`.

use runboard_shared::{NotificationsPage, ProjectId, Target};

use super::get;
use crate::logic::failure::Failure;

/// `GET /runboard/notifications/{projId}`.
pub(crate) async fn page(project: &ProjectId) -> Result<NotificationsPage, Failure> {
    get(&Target::Notifications(project.clone())).await
}
