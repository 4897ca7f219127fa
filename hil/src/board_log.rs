//! The firmware's log: defmt frames (semihosting output under QEMU), decoded with the
//! ELF image's defmt table into text lines.
//!
//! defmt formats on the host, not on the board: the firmware sends an index into a string table
//! kept in a non-loaded ELF section, plus the raw arguments. Reading the log therefore needs the
//! very image that produced it; [`BoardLog::for_elf`] loads its table.

use std::path::Path;

use defmt_decoder::{DecodeError, Table};

use crate::error::HilError;

/// A decoder of one firmware image's defmt log.
pub struct BoardLog {
    table: Table,
}

impl std::fmt::Debug for BoardLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoardLog").finish_non_exhaustive()
    }
}

impl BoardLog {
    /// Loads the defmt table of the ELF image at `elf`.
    pub fn for_elf(elf: &Path) -> Result<Self, HilError> {
        let bytes =
            std::fs::read(elf).map_err(|e| HilError::io("reading the firmware image", e))?;
        Self::from_elf_bytes(&bytes).map_err(|message| HilError::BoardLog {
            elf: elf.to_path_buf(),
            message,
        })
    }

    /// Loads the defmt table of an ELF image held in memory.
    pub fn from_elf_bytes(elf: &[u8]) -> Result<Self, String> {
        match Table::parse(elf) {
            Ok(Some(table)) => Ok(Self { table }),
            Ok(None) => Err("the image has no .defmt section (built without defmt)".into()),
            Err(e) => Err(format!("{e:#}")),
        }
    }

    /// Decodes a whole log into lines (`LEVEL message`, or the message alone for
    /// `println!`). A malformed frame becomes a line saying so; a cut-off last frame is dropped.
    pub fn decode(&self, bytes: &[u8]) -> Vec<String> {
        let mut stream = self.stream();
        stream.push(bytes)
    }

    /// A decoder for a log that arrives in pieces.
    pub fn stream(&self) -> LogStream<'_> {
        LogStream {
            decoder: self.table.new_stream_decoder(),
        }
    }
}

/// Decodes a log as it arrives (see [`BoardLog::stream`]).
pub struct LogStream<'t> {
    decoder: Box<dyn defmt_decoder::StreamDecoder + Send + Sync + 't>,
}

impl LogStream<'_> {
    /// Adds `bytes` and returns the lines of every frame completed so far.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.decoder.received(bytes);
        let mut lines = Vec::new();
        loop {
            match self.decoder.decode() {
                Ok(frame) => lines.push(match frame.level() {
                    Some(level) => format!(
                        "{} {}",
                        level.as_str().to_uppercase(),
                        frame.display_message()
                    ),
                    None => frame.display_message().to_string(),
                }),
                Err(DecodeError::UnexpectedEof) => break,
                Err(DecodeError::Malformed) => {
                    lines.push("(a malformed defmt frame: log bytes lost)".into())
                }
            }
        }
        lines
    }
}
