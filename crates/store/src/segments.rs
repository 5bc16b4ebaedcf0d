//! Large bytes of a SQLite store (raw messages, attachments), kept beside
//! the database in append-only segment files, `<database>-blobs/seg-NNNNNN`.
//!
//! Written into the database, every byte of mail went through SQLite's log
//! and again through the checkpoint, a page per system call: most of the
//! cost of receiving mail with photos and scans. Here a batch's bytes are
//! appended to one file and flushed once, before the transaction that
//! refers to them commits; a row refers to its bytes by segment and offset
//! (the length is its `size`). Bytes whose transaction did not commit
//! (a crash, a rollback) are left unreferenced: a later append goes after
//! them, so a torn tail never breaks anything.

use crate::{Result, StoreError};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};

/// A new segment is started past this size, so no file grows without end.
const SEGMENT_BYTES: u64 = 1 << 30;

/// Where some bytes are: a segment's number and an offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Aside {
    pub segment: i64,
    pub offset: i64,
    /// Set for a file kept as the base64 text its message brought it in
    /// (inside that message's source): the text's length. The bytes are
    /// decoded when read.
    pub base64_len: Option<i64>,
}

impl Aside {
    /// A file lying base64-encoded at `span` of the source put aside at `self`.
    pub fn within(self, span: std::ops::Range<usize>) -> Aside {
        Aside {
            segment: self.segment,
            offset: self.offset + span.start as i64,
            base64_len: Some(span.len() as i64),
        }
    }
}

/// The folder of segment files that belongs to a database file.
pub(crate) fn folder_of(database: &str) -> PathBuf {
    PathBuf::from(format!("{database}-blobs"))
}

fn segment_path(dir: &Path, n: i64) -> PathBuf {
    dir.join(format!("seg-{n:06}"))
}

/// The writer's end: it alone appends, on the SQLite writer's thread.
pub(crate) struct SegmentWriter {
    dir: PathBuf,
    number: i64,
    file: Arc<File>,
    len: u64,
    /// Written since the last flush.
    dirty: bool,
    /// A segment created since the last flush: its folder entry is flushed too.
    created: bool,
    /// A write failed part way: how much landed is unknown, so the next
    /// append starts a new segment.
    torn: bool,
    limit: u64,
}

impl SegmentWriter {
    /// Opens the newest segment of `dir` (created when missing) for appending.
    pub fn open(dir: &Path) -> Result<SegmentWriter> {
        std::fs::create_dir_all(dir)?;
        let mut newest = 0;
        for entry in std::fs::read_dir(dir)? {
            let name = entry?.file_name();
            if let Some(n) = name
                .to_str()
                .and_then(|n| n.strip_prefix("seg-"))
                .and_then(|n| n.parse::<i64>().ok())
            {
                newest = newest.max(n);
            }
        }
        let number = newest.max(1);
        let (file, created) = open_segment(dir, number)?;
        let len = file.metadata()?.len();
        Ok(SegmentWriter {
            dir: dir.to_path_buf(),
            number,
            file,
            len,
            dirty: false,
            created,
            torn: false,
            limit: SEGMENT_BYTES,
        })
    }

    /// Appends `bytes`; durable once [`SegmentWriter::flush`] returns.
    pub fn append(&mut self, bytes: &[u8]) -> Result<Aside> {
        if self.torn || (self.len > 0 && self.len + bytes.len() as u64 > self.limit) {
            // The full segment's bytes are flushed before it is left.
            self.flush()?;
            let (file, created) = open_segment(&self.dir, self.number + 1)?;
            self.number += 1;
            self.file = file;
            self.len = 0;
            self.created = created;
            self.torn = false;
        }
        let at = Aside {
            segment: self.number,
            offset: self.len as i64,
            base64_len: None,
        };
        self.dirty = true;
        if let Err(e) = (&*self.file).write_all(bytes) {
            self.torn = true;
            return Err(e.into());
        }
        self.len += bytes.len() as u64;
        Ok(at)
    }

    /// Starts making everything appended so far durable on `flusher`'s
    /// thread, so that the caller can go on meanwhile; see [`Flushing::wait`].
    pub fn flush_in_background(&mut self, flusher: &Flusher) -> Result<Option<Flushing>> {
        if self.created {
            File::open(&self.dir)?.sync_all()?;
            self.created = false;
        }
        if !self.dirty {
            return Ok(None);
        }
        let (tx, rx) = mpsc::sync_channel(1);
        flusher
            .0
            .send((self.file.clone(), tx))
            .map_err(|_| flusher_stopped())?;
        self.dirty = false;
        Ok(Some(Flushing(rx)))
    }

    /// Makes everything appended so far durable.
    pub fn flush(&mut self) -> Result<()> {
        if self.dirty {
            self.file.sync_data()?;
            self.dirty = false;
        }
        if self.created {
            File::open(&self.dir)?.sync_all()?;
            self.created = false;
        }
        Ok(())
    }
}

fn open_segment(dir: &Path, n: i64) -> Result<(Arc<File>, bool)> {
    let path = segment_path(dir, n);
    let created = !path.exists();
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    Ok((Arc::new(file), created))
}

type FlushJob = (Arc<File>, mpsc::SyncSender<std::io::Result<()>>);

/// A thread that flushes segment files to disk while their writer goes on.
pub(crate) struct Flusher(mpsc::Sender<FlushJob>);

impl Flusher {
    pub fn start() -> Result<Flusher> {
        let (tx, rx) = mpsc::channel::<FlushJob>();
        std::thread::Builder::new()
            .name("segment-flusher".into())
            .spawn(move || {
                while let Ok((file, done)) = rx.recv() {
                    let _ = done.send(file.sync_data());
                }
            })
            .map_err(|e| StoreError::Internal(format!("cannot start the segment flusher: {e}")))?;
        Ok(Flusher(tx))
    }
}

fn flusher_stopped() -> StoreError {
    StoreError::Internal("the segment flusher stopped".into())
}

/// A flush under way.
pub(crate) struct Flushing(mpsc::Receiver<std::io::Result<()>>);

impl Flushing {
    /// Returns once the bytes are durable.
    pub fn wait(self) -> Result<()> {
        self.0.recv().map_err(|_| flusher_stopped())??;
        Ok(())
    }
}

/// Reads the `len` bytes put aside at `at` in `dir`.
pub(crate) fn read(dir: &Path, at: Aside, len: i64) -> Result<Vec<u8>> {
    let bad = || StoreError::Internal(format!("bad location {at:?} for {len} bytes"));
    let stored = at.base64_len.unwrap_or(len);
    let (Ok(offset), Ok(stored)) = (u64::try_from(at.offset), usize::try_from(stored)) else {
        return Err(bad());
    };
    let file = File::open(segment_path(dir, at.segment))?;
    let mut buf = vec![0; stored];
    file.read_exact_at(&mut buf, offset)?;
    if at.base64_len.is_none() {
        return Ok(buf);
    }
    match domain::base64_text::decode(&buf) {
        Some(bytes) if bytes.len() as i64 == len => Ok(bytes),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_bytes_read_back_after_reopening() {
        let dir = crate::testing::temp_dir().join("blobs");
        let mut w = SegmentWriter::open(&dir).unwrap();
        let a = w.append(b"first message").unwrap();
        let b = w.append(&[7u8; 10_000]).unwrap();
        w.flush().unwrap();
        drop(w);
        let mut w = SegmentWriter::open(&dir).unwrap();
        let c = w.append(b"after reopening").unwrap();
        w.flush().unwrap();
        assert_eq!(read(&dir, a, 13).unwrap(), b"first message");
        assert_eq!(read(&dir, b, 10_000).unwrap(), vec![7u8; 10_000]);
        assert_eq!(read(&dir, c, 15).unwrap(), b"after reopening");
        assert_eq!(
            c.offset,
            13 + 10_000,
            "appends continue where the file ends"
        );
    }

    /// A crash mid-append leaves bytes no row refers to: later appends go
    /// after them and earlier bytes stay intact.
    #[test]
    fn a_torn_tail_is_skipped() {
        let dir = crate::testing::temp_dir().join("blobs");
        let mut w = SegmentWriter::open(&dir).unwrap();
        let a = w.append(b"committed").unwrap();
        w.flush().unwrap();
        drop(w);
        let mut f = OpenOptions::new()
            .append(true)
            .open(segment_path(&dir, 1))
            .unwrap();
        f.write_all(b"torn by a cra").unwrap();
        drop(f);
        let mut w = SegmentWriter::open(&dir).unwrap();
        let b = w.append(b"next").unwrap();
        w.flush().unwrap();
        assert_eq!(read(&dir, a, 9).unwrap(), b"committed");
        assert_eq!(read(&dir, b, 4).unwrap(), b"next");
    }

    #[test]
    fn a_full_segment_is_followed_by_the_next() {
        let dir = crate::testing::temp_dir().join("blobs");
        let mut w = SegmentWriter::open(&dir).unwrap();
        w.limit = 10;
        let a = w.append(b"12345678").unwrap();
        let b = w.append(b"abcdef").unwrap();
        // Larger than a segment: it still goes in one piece.
        let c = w.append(&[1u8; 25]).unwrap();
        w.flush().unwrap();
        assert_eq!((a.segment, b.segment, c.segment), (1, 2, 3));
        assert_eq!(read(&dir, b, 6).unwrap(), b"abcdef");
        assert_eq!(read(&dir, c, 25).unwrap(), vec![1u8; 25]);
        drop(w);
        let w = SegmentWriter::open(&dir).unwrap();
        assert_eq!((w.number, w.len), (3, 25), "reopens the newest segment");
    }

    #[test]
    fn a_background_flush_is_waited_for_once_per_append() {
        let dir = crate::testing::temp_dir().join("blobs");
        let flusher = Flusher::start().unwrap();
        let mut w = SegmentWriter::open(&dir).unwrap();
        let a = w.append(b"source").unwrap();
        let flushing = w.flush_in_background(&flusher).unwrap();
        assert!(flushing.is_some(), "something to flush");
        assert!(
            w.flush_in_background(&flusher).unwrap().is_none(),
            "nothing new"
        );
        flushing.unwrap().wait().unwrap();
        assert_eq!(read(&dir, a, 6).unwrap(), b"source");
    }

    #[test]
    fn base64_text_inside_a_source_reads_as_its_bytes() {
        let dir = crate::testing::temp_dir().join("blobs");
        let mut w = SegmentWriter::open(&dir).unwrap();
        let source = b"Content-Transfer-Encoding: base64\r\n\r\nc2Nh\r\nbm5lZA==\r\n--b--\r\n";
        let at = w.append(source).unwrap();
        w.flush().unwrap();
        let text = 37..53;
        assert_eq!(read(&dir, at.within(text.clone()), 7).unwrap(), b"scanned");
        assert!(read(&dir, at.within(text), 8).is_err(), "the wrong length");
        assert!(read(&dir, at.within(37..60), 7).is_err(), "not base64 text");
    }

    #[test]
    fn reading_past_the_end_is_an_error() {
        let dir = crate::testing::temp_dir().join("blobs");
        let mut w = SegmentWriter::open(&dir).unwrap();
        let a = w.append(b"short").unwrap();
        w.flush().unwrap();
        assert!(read(&dir, a, 6).is_err());
        let missing = Aside {
            segment: 9,
            offset: 0,
            base64_len: None,
        };
        assert!(read(&dir, missing, 1).is_err());
    }
}
