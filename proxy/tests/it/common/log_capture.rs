//! Log output collected in memory, for the tests that read what Runboard logs (each in
//! its own process, [`super::alone`], since the subscriber is global).

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use tracing_subscriber::fmt::MakeWriter;

/// Everything written so far; clones share the buffer.
#[derive(Clone, Default)]
pub struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    /// Sends this process's JSON log lines at `info` (the simulator's silenced) to a new
    /// buffer, as a log collector would read them: for the tests of audit lines.
    pub fn capture_json() -> Self {
        let logs = Self::default();
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info,runboard_sim=off"))
            .with_writer(logs.clone())
            .init();
        logs
    }

    /// The captured text.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
