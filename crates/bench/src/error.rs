//! The one error type of the benchmark: what kept it from measuring at all. Failed
//! requests during a measurement are counted in the report instead.

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A setting is out of range.
    #[error("invalid option: {0}")]
    Options(String),
    /// A process of the comparison (`runboard`, nginx, wrk) did not start.
    #[error("cannot start {what}: {message}")]
    Start {
        /// Which server.
        what: &'static str,
        /// Why, as the server said.
        message: String,
    },
    /// The simulator or `runboard` of the shared stack builder did not start.
    #[error(transparent)]
    Stack(#[from] runboard_proxy::demo::StackError),
    /// The runs and jobs the requests read could not be set up.
    #[error("cannot prepare the fixture: {0}")]
    Fixture(String),
    /// The browser could not load or time the widget.
    #[error("widget: {0}")]
    Widget(String),
    /// An id from the simulator's catalog or answers is not a valid id.
    #[error("invalid id: {0}")]
    Id(#[from] runboard_shared::ValidationError),
    /// The HTTP client could not be built or a set-up request failed outright.
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    /// A file or a temporary directory could not be written.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}
