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
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// A new segment is started past this size, so no file grows without end.
const SEGMENT_BYTES: u64 = 1 << 30;

/// How many content hashes of recent files are kept (some 100 bytes each).
const RECENT_FILES: usize = 65_536;

/// Where some bytes are: a segment's number and an offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Aside {
    pub segment: i64,
    pub offset: i64,
}

/// The folder of segment files that belongs to a database file.
pub(crate) fn folder_of(database: &str) -> PathBuf {
    PathBuf::from(format!("{database}-blobs"))
}

fn segment_path(dir: &Path, n: i64) -> PathBuf {
    dir.join(format!("seg-{n:06}"))
}

/// The segment files of a store, shared by the sessions that write ahead
/// and the SQLite writer's thread.
pub(crate) type Segments = Arc<SegmentFiles>;

pub(crate) struct SegmentFiles {
    writer: Mutex<SegmentWriter>,
    sync: Mutex<SyncState>,
    synced: Condvar,
}

/// Group flushing: many sessions wait on one flush instead of each making
/// their own, a millisecond of the disk's time apiece.
#[derive(Default)]
struct SyncState {
    /// Appends up to this count are durable.
    durable: u64,
    flushing: bool,
}

impl SegmentFiles {
    pub fn open(dir: &Path) -> Result<SegmentFiles> {
        Ok(SegmentFiles {
            writer: Mutex::new(SegmentWriter::open(dir)?),
            sync: Mutex::new(SyncState::default()),
            synced: Condvar::new(),
        })
    }

    /// The writer, to append. A failed append leaves it consistent (see
    /// `torn`): a panic elsewhere while it was held does not make it unusable.
    pub fn lock(&self) -> MutexGuard<'_, SegmentWriter> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns once the first `appends` appends are durable: the caller
    /// flushes for everyone appended so far, or waits for a flush under way
    /// and flushes after it only if that did not cover it. Blocks.
    pub fn sync(&self, appends: u64) -> Result<()> {
        let lock = || self.sync.lock().unwrap_or_else(PoisonError::into_inner);
        let mut st = lock();
        while st.durable < appends && st.flushing {
            st = self.synced.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
        if st.durable >= appends {
            return Ok(());
        }
        st.flushing = true;
        drop(st);
        let (file, covered) = {
            let w = self.lock();
            (w.current(), w.appends)
        };
        let flushed = file.sync_data();
        let mut st = lock();
        st.flushing = false;
        if flushed.is_ok() {
            st.durable = st.durable.max(covered);
        }
        self.synced.notify_all();
        Ok(flushed?)
    }
}

pub(crate) struct SegmentWriter {
    dir: PathBuf,
    number: i64,
    file: Arc<File>,
    len: u64,
    /// Written since the last flush.
    dirty: bool,
    /// A write failed part way: how much landed is unknown, so the next
    /// append starts a new segment.
    torn: bool,
    limit: u64,
    /// Appends so far (see [`SegmentFiles::sync`]).
    pub appends: u64,
    /// Files appended lately, by content hash. Two messages of a burst may
    /// carry the same file before either is committed: it is written once.
    recent: HashMap<String, Aside>,
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
        let file = open_segment(dir, number)?;
        let len = file.metadata()?.len();
        Ok(SegmentWriter {
            dir: dir.to_path_buf(),
            number,
            file: Arc::new(file),
            len,
            dirty: false,
            torn: false,
            limit: SEGMENT_BYTES,
            recent: HashMap::new(),
            appends: 0,
        })
    }

    /// Appends `bytes`; durable once [`SegmentWriter::flush`] returns, or
    /// a [`SegmentFiles::sync`] of the appends counted after it.
    pub fn append(&mut self, bytes: &[u8]) -> Result<Aside> {
        if self.torn || (self.len > 0 && self.len + bytes.len() as u64 > self.limit) {
            // The full segment's bytes are flushed before it is left.
            self.flush()?;
            self.file = Arc::new(open_segment(&self.dir, self.number + 1)?);
            self.number += 1;
            self.len = 0;
            self.torn = false;
            self.recent.clear();
        }
        let at = Aside {
            segment: self.number,
            offset: self.len as i64,
        };
        self.dirty = true;
        if let Err(e) = (&*self.file).write_all(bytes) {
            self.torn = true;
            return Err(e.into());
        }
        self.len += bytes.len() as u64;
        self.appends += 1;
        Ok(at)
    }

    /// Appends a file unless it was appended lately; where it is.
    pub fn append_file(&mut self, hash: &str, bytes: &[u8]) -> Result<Aside> {
        if let Some(at) = self.recent.get(hash) {
            return Ok(*at);
        }
        let at = self.append(bytes)?;
        if self.recent.len() >= RECENT_FILES {
            self.recent.clear();
        }
        self.recent.insert(hash.to_string(), at);
        Ok(at)
    }

    /// Makes everything appended so far durable.
    pub fn flush(&mut self) -> Result<()> {
        if self.dirty {
            self.file.sync_data()?;
            self.dirty = false;
        }
        Ok(())
    }

    /// The segment being appended to: syncing it makes what was appended
    /// so far durable (earlier segments were flushed when they were left),
    /// without holding up other writers meanwhile.
    fn current(&self) -> Arc<File> {
        self.file.clone()
    }
}

/// Opens segment `n` for appending. A new one's folder entry is flushed at
/// once: bytes in a file the folder may forget are not durable.
fn open_segment(dir: &Path, n: i64) -> Result<File> {
    let path = segment_path(dir, n);
    let created = !path.exists();
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    if created {
        File::open(dir)?.sync_all()?;
    }
    Ok(file)
}

/// Reads `len` bytes put aside at `at` in `dir`.
pub(crate) fn read(dir: &Path, at: Aside, len: i64) -> Result<Vec<u8>> {
    let (Ok(offset), Ok(len)) = (u64::try_from(at.offset), usize::try_from(len)) else {
        return Err(StoreError::Internal(format!("bad location {at:?}")));
    };
    let file = File::open(segment_path(dir, at.segment))?;
    let mut buf = vec![0; len];
    file.read_exact_at(&mut buf, offset)?;
    Ok(buf)
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
    fn a_file_appended_lately_is_not_appended_again() {
        let dir = crate::testing::temp_dir().join("blobs");
        let mut w = SegmentWriter::open(&dir).unwrap();
        let a = w.append_file("h1", b"photo").unwrap();
        let b = w.append_file("h1", b"photo").unwrap();
        let c = w.append_file("h2", b"scan").unwrap();
        assert_eq!(a, b);
        assert_eq!(c.offset, 5);
    }

    /// Sessions append and wait for their bytes to be durable at once: every
    /// one returns, and every byte reads back where it was said to be.
    #[test]
    fn concurrent_appends_share_flushes() {
        let dir = crate::testing::temp_dir().join("blobs");
        let files = Arc::new(SegmentFiles::open(&dir).unwrap());
        let threads: Vec<_> = (0..8u8)
            .map(|t| {
                let files = files.clone();
                std::thread::spawn(move || {
                    let mut written = Vec::new();
                    for n in 0..50u8 {
                        let bytes = vec![t ^ n; 1000 + usize::from(n)];
                        let (at, appends) = {
                            let mut w = files.lock();
                            (w.append(&bytes).unwrap(), w.appends)
                        };
                        files.sync(appends).unwrap();
                        written.push((at, bytes));
                    }
                    written
                })
            })
            .collect();
        for t in threads {
            for (at, bytes) in t.join().unwrap() {
                assert_eq!(read(&dir, at, bytes.len() as i64).unwrap(), bytes);
            }
        }
        assert_eq!(files.lock().appends, 400);
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
        };
        assert!(read(&dir, missing, 1).is_err());
    }
}
