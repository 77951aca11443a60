//! Server-Sent Events read from a byte stream: enough of the format for Runboard's live
//! stream (`event:` and `data:` lines, events ended by a blank line, `\n` or `\r\n`,
//! comments ignored). Chunks may split anywhere, even inside a UTF-8 character.

/// One event: its name (`message` when the server gave none) and its data lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    pub(crate) name: String,
    pub(crate) data: String,
}

/// Collects bytes and hands out whole events.
#[derive(Debug, Default)]
pub(crate) struct Parser {
    pending: Vec<u8>,
    name: Option<String>,
    data: Option<String>,
}

impl Parser {
    /// Adds `chunk` and returns the events it completed, in order.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Vec<Event> {
        self.pending.extend_from_slice(chunk);
        let mut events = Vec::new();
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line[..end]);
            let line = line.strip_suffix('\r').unwrap_or(&line);
            if let Some(event) = self.line(line) {
                events.push(event);
            }
        }
        events
    }

    fn line(&mut self, line: &str) -> Option<Event> {
        if line.is_empty() {
            let data = self.data.take();
            let name = self.name.take();
            return data.map(|data| Event {
                name: name.unwrap_or_else(|| "message".to_owned()),
                data,
            });
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.name = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, data: &str) -> Event {
        Event {
            name: name.into(),
            data: data.into(),
        }
    }

    #[test]
    fn events_across_chunks_and_line_ends() {
        let stream = "event: report\ndata: {\"a\":1}\n\n: comment\nevent: ping\r\ndata: {}\r\n\r\nid: 7\ndata: x\ndata: y\n\n";
        let whole = Parser::default().push(stream.as_bytes());
        let want = vec![
            event("report", "{\"a\":1}"),
            event("ping", "{}"),
            event("message", "x\ny"),
        ];
        assert_eq!(whole, want);
        // Split at every byte: the same events come out.
        let mut parser = Parser::default();
        let split: Vec<Event> = stream
            .as_bytes()
            .iter()
            .flat_map(|b| parser.push(std::slice::from_ref(b)))
            .collect();
        assert_eq!(split, want);
    }

    #[test]
    fn a_character_split_between_chunks_stays_whole() {
        let text = "event: change\ndata: \"✕\"\n\n".as_bytes();
        let cut = text.iter().position(|&b| b == 0xE2).unwrap() + 1;
        let mut parser = Parser::default();
        assert!(parser.push(&text[..cut]).is_empty());
        assert_eq!(parser.push(&text[cut..]), vec![event("change", "\"✕\"")]);
    }

    #[test]
    fn an_event_without_data_is_not_dispatched() {
        assert!(Parser::default().push(b"event: ping\n\n").is_empty());
    }
}
