//! An event stream read as cheaply as a crowd of viewers needs: HTTP/1.1 chunked framing
//! undone on the fly, and each event's name and id kept, its data only when the reader
//! asks for it. Nothing is buffered but one short field line, so ten thousand of these
//! cost ten thousand small structs, not ten thousand copies of a report.

use runboard_shared::LiveEventName;

/// The longest field line kept (`event:` and `id:` lines are far shorter). A longer line
/// that is not wanted data (a report's `data:` line) is skipped byte by byte.
const FIELD_LINE: usize = 64;
/// The largest chunk size believed; a larger one is a broken stream.
const MAX_CHUNK: usize = 1 << 32;

/// Why a stream could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ScanError {
    /// The chunked framing is broken.
    #[error("broken chunked framing: {0}")]
    Framing(&'static str),
    /// The stream said it failed (`event: failure`), with its data.
    #[error("the stream sent a failure: {0}")]
    Failure(String),
}

/// Where the chunked decoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Reading the hexadecimal size so far.
    Size(usize),
    /// After `;`: a chunk extension, skipped up to the line end.
    Extension(usize),
    /// After the size line's `\r`.
    SizeLf(usize),
    /// Inside a chunk, this many bytes left.
    Data(usize),
    /// After a chunk's data: its `\r`, then its `\n`.
    DataCr,
    DataLf,
    /// The last chunk came: the body is over (trailers are ignored).
    Done,
}

/// Undoes `Transfer-Encoding: chunked`, or passes bytes through for a body that ends with
/// the connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dechunk(Option<Chunk>);

impl Dechunk {
    /// A decoder for a chunked body (`true`) or a body that runs until the connection closes.
    pub(crate) fn new(chunked: bool) -> Self {
        Self(chunked.then_some(Chunk::Size(0)))
    }

    /// Whether the last chunk has come.
    pub(crate) fn is_done(&self) -> bool {
        self.0 == Some(Chunk::Done)
    }

    /// Feeds `input`; each run of body bytes goes to `body`.
    pub(crate) fn feed(
        &mut self,
        mut input: &[u8],
        mut body: impl FnMut(&[u8]) -> Result<(), ScanError>,
    ) -> Result<(), ScanError> {
        let Some(state) = &mut self.0 else {
            return body(input);
        };
        while let Some((&byte, rest)) = input.split_first() {
            if let Chunk::Data(left) = *state {
                let take = left.min(input.len());
                body(&input[..take])?;
                input = &input[take..];
                *state = if take == left {
                    Chunk::DataCr
                } else {
                    Chunk::Data(left - take)
                };
                continue;
            }
            input = rest;
            *state = match (*state, byte) {
                (Chunk::Size(size), b';') => Chunk::Extension(size),
                (Chunk::Size(size) | Chunk::Extension(size), b'\r') => Chunk::SizeLf(size),
                (Chunk::Size(size), _) => Chunk::Size(grow(size, byte)?),
                (Chunk::Extension(size), _) => Chunk::Extension(size),
                (Chunk::SizeLf(0), b'\n') => Chunk::Done,
                (Chunk::SizeLf(size), b'\n') => Chunk::Data(size),
                (Chunk::DataCr, b'\r') => Chunk::DataLf,
                (Chunk::DataLf, b'\n') => Chunk::Size(0),
                (Chunk::Done, _) => Chunk::Done,
                _ => return Err(ScanError::Framing("unexpected byte between chunks")),
            };
        }
        Ok(())
    }
}

/// `size` with one more hexadecimal digit.
fn grow(size: usize, digit: u8) -> Result<usize, ScanError> {
    let value = char::from(digit)
        .to_digit(16)
        .ok_or(ScanError::Framing("a chunk size that is not hexadecimal"))?;
    let size = size * 16 + value as usize;
    if size > MAX_CHUNK {
        return Err(ScanError::Framing("a chunk size too large to believe"));
    }
    Ok(size)
}

/// One complete event as the reader sees it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Event<'a> {
    /// `None` for an unnamed event or one Runboard does not send.
    pub(crate) name: Option<LiveEventName>,
    /// The `id:` field, if any.
    pub(crate) id: Option<&'a str>,
    /// The joined `data:` lines, only when [`Reader::wants_data`] asked for them.
    pub(crate) data: Option<&'a [u8]>,
}

/// What consumes the events of one stream.
pub(crate) trait Reader {
    /// Asked when an event's name and then its id are known: whether to keep its data.
    fn wants_data(&mut self, name: Option<LiveEventName>, id: Option<&str>) -> bool;
    /// One whole event.
    fn event(&mut self, event: Event<'_>) -> Result<(), ScanError>;
}

/// The event-stream parser: the current line's first bytes, the event's name and id,
/// and its data while it is wanted.
#[derive(Debug)]
pub(crate) struct Events {
    line: [u8; FIELD_LINE],
    len: usize,
    /// The current line is wanted data and goes straight to `data`.
    capturing: bool,
    /// Capturing began right after `data:`: a space that comes next is not data.
    space_pending: bool,
    name: Option<LiveEventName>,
    id: [u8; FIELD_LINE],
    id_len: Option<usize>,
    want_data: bool,
    data: Option<Vec<u8>>,
}

impl Default for Events {
    fn default() -> Self {
        Self {
            line: [0; FIELD_LINE],
            len: 0,
            capturing: false,
            space_pending: false,
            name: None,
            id: [0; FIELD_LINE],
            id_len: None,
            want_data: false,
            data: None,
        }
    }
}

impl Events {
    /// Feeds body bytes; complete events go to `reader`.
    pub(crate) fn feed(
        &mut self,
        mut bytes: &[u8],
        reader: &mut impl Reader,
    ) -> Result<(), ScanError> {
        while !bytes.is_empty() {
            let end = bytes.iter().position(|&b| b == b'\n');
            let piece = &bytes[..end.unwrap_or(bytes.len())];
            self.take(piece);
            bytes = match end {
                Some(at) => {
                    self.line_end(reader)?;
                    &bytes[at + 1..]
                }
                None => &[],
            };
        }
        Ok(())
    }

    /// Part of a line, without its end.
    fn take(&mut self, mut piece: &[u8]) {
        if self.capturing {
            if self.space_pending && !piece.is_empty() {
                self.space_pending = false;
                piece = piece.strip_prefix(b" ").unwrap_or(piece);
            }
            self.data.get_or_insert_default().extend_from_slice(piece);
            return;
        }
        let room = FIELD_LINE - self.len;
        let kept = piece.len().min(room);
        self.line[self.len..self.len + kept].copy_from_slice(&piece[..kept]);
        self.len += kept;
        if self.want_data && self.len >= 5 && self.line.starts_with(b"data:") {
            // Wanted data: from here on the line goes to `data`, however long.
            let data = self.data.get_or_insert_default();
            if !data.is_empty() {
                data.push(b'\n');
            }
            let value = &self.line[5..self.len];
            data.extend_from_slice(value.strip_prefix(b" ").unwrap_or(value));
            self.capturing = true;
            self.space_pending = value.is_empty();
            self.len = 0;
            self.take(&piece[kept..]);
        }
    }

    fn line_end(&mut self, reader: &mut impl Reader) -> Result<(), ScanError> {
        self.space_pending = false;
        if std::mem::take(&mut self.capturing) {
            if self.data.as_ref().is_some_and(|d| d.ends_with(b"\r")) {
                self.data.as_mut().map(Vec::pop);
            }
            return Ok(());
        }
        let line = &self.line[..self.len];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        self.len = 0;
        if line.is_empty() {
            return self.dispatch(reader);
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(at) => (&line[..at], &line[at + 1..]),
            None => (line, &b""[..]),
        };
        let value = value.strip_prefix(b" ").unwrap_or(value);
        match field {
            b"event" => {
                self.name = std::str::from_utf8(value)
                    .ok()
                    .and_then(LiveEventName::parse);
                self.want_data = reader.wants_data(self.name, None);
            }
            b"id" => {
                self.id[..value.len()].copy_from_slice(value);
                self.id_len = Some(value.len());
                let id = self.id_text();
                self.want_data = reader.wants_data(self.name, id);
            }
            _ => {}
        }
        Ok(())
    }

    fn id_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.id[..self.id_len?]).ok()
    }

    /// A blank line: the event is complete (a lone comment line is no event).
    fn dispatch(&mut self, reader: &mut impl Reader) -> Result<(), ScanError> {
        let any = self.name.is_some() || self.id_len.is_some() || self.data.is_some();
        let data = self.data.take();
        if any {
            reader.event(Event {
                name: self.name,
                id: self.id_text(),
                data: data.as_deref().filter(|_| self.want_data),
            })?;
        }
        self.name = None;
        self.id_len = None;
        self.want_data = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeps every event as text; wants the data of reports and failures.
    #[derive(Default)]
    struct Log(Vec<String>);

    impl Reader for Log {
        fn wants_data(&mut self, name: Option<LiveEventName>, _id: Option<&str>) -> bool {
            matches!(name, Some(LiveEventName::Report | LiveEventName::Failure))
        }

        fn event(&mut self, event: Event<'_>) -> Result<(), ScanError> {
            let data = event.data.map(|d| String::from_utf8_lossy(d).into_owned());
            self.0.push(format!(
                "{}|{}|{}",
                event.name.map_or("-", LiveEventName::as_str),
                event.id.unwrap_or("-"),
                data.as_deref().unwrap_or("-")
            ));
            Ok(())
        }
    }

    /// `body` as one chunked message, in chunks of `size` bytes.
    fn chunked(body: &[u8], size: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for piece in body.chunks(size) {
            out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            out.extend_from_slice(piece);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    }

    const STREAM: &str = "event: report\nid: 7.1\ndata: {\"tests\":[1,\ndata: 2]}\n\n\
        : keep-alive\nevent: ping\ndata: {}\n\n\
        event: change\nid: 7.2\ndata: {\"tests\":[3]}\n\n\
        event: final\nid: 7.3\ndata: {\"status\":\"Completed\"}\n\n";

    const EXPECTED: [&str; 4] = [
        "report|7.1|{\"tests\":[1,\n2]}",
        "ping|-|-",
        "change|7.2|-",
        "final|7.3|-",
    ];

    /// The stream, chunked in `size`-byte chunks and fed `step` bytes at a time.
    fn read(size: usize, step: usize) -> (Vec<String>, bool) {
        let wire = chunked(STREAM.as_bytes(), size);
        let (mut dechunk, mut events, mut log) =
            (Dechunk::new(true), Events::default(), Log::default());
        for piece in wire.chunks(step) {
            dechunk
                .feed(piece, |body| events.feed(body, &mut log))
                .expect("well formed");
        }
        (log.0, dechunk.is_done())
    }

    #[test]
    fn events_read_the_same_however_the_bytes_are_cut() {
        for size in [1, 2, 5, 13, 64, 4096] {
            for step in [1, 3, 7, 100, 10_000] {
                let (log, done) = read(size, step);
                assert_eq!(log, EXPECTED, "chunks of {size}, reads of {step}");
                assert!(done, "the last chunk is seen");
            }
        }
    }

    #[test]
    fn a_long_unwanted_line_is_skipped_and_a_failure_keeps_its_data() {
        let long = "x".repeat(10_000);
        let text = format!(
            "event: change\nid: 1.2\ndata: {long}\n\nevent: failure\ndata: {{\"error\":{{}}}}\n\n"
        );
        let (mut events, mut log) = (Events::default(), Log::default());
        events.feed(text.as_bytes(), &mut log).expect("readable");
        assert_eq!(log.0, ["change|1.2|-", "failure|-|{\"error\":{}}"]);
    }

    #[test]
    fn broken_framing_is_an_error() {
        let check = |wire: &[u8]| {
            let mut dechunk = Dechunk::new(true);
            assert!(
                dechunk.feed(wire, |_| Ok(())).is_err(),
                "{:?}",
                String::from_utf8_lossy(wire)
            );
        };
        check(b"zz\r\n");
        check(b"3\r\nabcX");
        check(b"3\nabc");
        check(b"fffffffffffff\r\n");
        let mut plain = Dechunk::new(false);
        let mut seen = Vec::new();
        plain
            .feed(b"as is", |b| {
                seen.extend_from_slice(b);
                Ok(())
            })
            .expect("not chunked");
        assert_eq!(seen, b"as is");
    }
}
