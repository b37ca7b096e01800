// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! Parsing, checking and printing event records as `read()` returns them.

use std::fmt;
use std::os::fd::{AsRawFd, OwnedFd};

use crate::backend::{fionread, read, Errno};
use crate::uapi::{self, InotifyEvent};

/// One parsed event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The watch descriptor (-1 for `IN_Q_OVERFLOW`).
    pub wd: i32,
    /// `IN_*` bits.
    pub mask: u32,
    /// The rename cookie.
    pub cookie: u32,
    /// The padded name length as read.
    pub len: u32,
    /// The name without its NUL padding.
    pub name: Vec<u8>,
}

const MASK_NAMES: &[(u32, &str)] = &[
    (uapi::IN_ACCESS, "ACCESS"),
    (uapi::IN_MODIFY, "MODIFY"),
    (uapi::IN_ATTRIB, "ATTRIB"),
    (uapi::IN_CLOSE_WRITE, "CLOSE_WRITE"),
    (uapi::IN_CLOSE_NOWRITE, "CLOSE_NOWRITE"),
    (uapi::IN_OPEN, "OPEN"),
    (uapi::IN_MOVED_FROM, "MOVED_FROM"),
    (uapi::IN_MOVED_TO, "MOVED_TO"),
    (uapi::IN_CREATE, "CREATE"),
    (uapi::IN_DELETE, "DELETE"),
    (uapi::IN_DELETE_SELF, "DELETE_SELF"),
    (uapi::IN_MOVE_SELF, "MOVE_SELF"),
    (uapi::IN_UNMOUNT, "UNMOUNT"),
    (uapi::IN_Q_OVERFLOW, "Q_OVERFLOW"),
    (uapi::IN_IGNORED, "IGNORED"),
    (uapi::IN_ISDIR, "ISDIR"),
];

/// Every bit an event may carry (`inotify_mask_to_arg()`).
pub const EVENT_BITS: u32 = uapi::IN_ALL_EVENTS
    | uapi::IN_ISDIR
    | uapi::IN_UNMOUNT
    | uapi::IN_IGNORED
    | uapi::IN_Q_OVERFLOW;

/// `MODIFY|ISDIR`, with unknown bits in hex.
pub fn mask_str(mask: u32) -> String {
    let mut parts = Vec::new();
    let mut rest = mask;
    for &(bit, name) in MASK_NAMES {
        if mask & bit != 0 {
            parts.push(name.to_string());
            rest &= !bit;
        }
    }
    if rest != 0 || parts.is_empty() {
        parts.push(format!("{rest:#x}"));
    }
    parts.join("|")
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{wd:{} {}", self.wd, mask_str(self.mask))?;
        if self.cookie != 0 {
            write!(f, " cookie:{:#x}", self.cookie)?;
        }
        if self.len != 0 {
            write!(
                f,
                " \"{}\"/{}",
                String::from_utf8_lossy(&self.name),
                self.len
            )?;
        }
        write!(f, "}}")
    }
}

/// Formats a list of events on one line.
pub fn fmt_events(evs: &[Event]) -> String {
    if evs.is_empty() {
        return "(none)".to_string();
    }
    evs.iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Splits the bytes of one `read()` into events, checking the record framing: whole records
/// only, `len` a multiple of 16, the name NUL-terminated and NUL-padded.
pub fn parse(buf: &[u8]) -> Result<Vec<Event>, String> {
    let mut out = Vec::new();
    let mut off = 0;
    while off < buf.len() {
        let rest = &buf[off..];
        if rest.len() < uapi::EVENT_SIZE {
            return Err(format!(
                "truncated header: {} bytes left at offset {off} of {}",
                rest.len(),
                buf.len()
            ));
        }
        // SAFETY: at least `EVENT_SIZE` bytes are readable; the read is unaligned-safe and
        // every bit pattern is a valid `InotifyEvent`.
        let h: InotifyEvent = unsafe { std::ptr::read_unaligned(rest.as_ptr().cast()) };
        let len = h.len as usize;
        if !len.is_multiple_of(uapi::EVENT_ALIGN) {
            return Err(format!(
                "event at offset {off}: len {len} is not a multiple of 16"
            ));
        }
        if rest.len() < uapi::EVENT_SIZE + len {
            return Err(format!(
                "event at offset {off}: len {len} runs past the end of the {}-byte read",
                buf.len()
            ));
        }
        let raw = &rest[uapi::EVENT_SIZE..uapi::EVENT_SIZE + len];
        let name = if len == 0 {
            Vec::new()
        } else {
            let nul = raw
                .iter()
                .position(|&b| b == 0)
                .ok_or_else(|| format!("event at offset {off}: name not NUL-terminated"))?;
            if nul == 0 {
                return Err(format!("event at offset {off}: len {len} but empty name"));
            }
            if raw[nul..].iter().any(|&b| b != 0) {
                return Err(format!(
                    "event at offset {off}: padding after the name is not NUL"
                ));
            }
            raw[..nul].to_vec()
        };
        out.push(Event {
            wd: h.wd,
            mask: h.mask,
            cookie: h.cookie,
            len: h.len,
            name,
        });
        off += uapi::EVENT_SIZE + len;
    }
    Ok(out)
}

/// Checks what upstream guarantees of every event, whatever the operations were.
pub fn check_well_formed(e: &Event) -> Result<(), String> {
    let bad = |why: &str| Err(format!("malformed event {e}: {why}"));
    if e.mask == 0 {
        return bad("mask is 0");
    }
    if e.mask & !EVENT_BITS != 0 {
        return bad("bits outside inotify_mask_to_arg()");
    }
    if e.mask & uapi::IN_Q_OVERFLOW != 0 {
        if e.wd != -1 || e.mask != uapi::IN_Q_OVERFLOW || e.cookie != 0 || e.len != 0 {
            return bad("IN_Q_OVERFLOW must be {wd:-1, mask:Q_OVERFLOW, cookie:0, len:0}");
        }
        return Ok(());
    }
    if e.wd < 1 {
        return bad("wd < 1");
    }
    if e.mask & uapi::IN_IGNORED != 0 && (e.mask != uapi::IN_IGNORED || e.cookie != 0 || e.len != 0)
    {
        return bad("IN_IGNORED must be alone, with cookie 0 and no name");
    }
    if (e.mask & uapi::IN_MOVE != 0) != (e.cookie != 0) {
        return bad("a cookie is set iff the event is MOVED_FROM or MOVED_TO");
    }
    if e.mask & (uapi::IN_DELETE_SELF | uapi::IN_MOVE_SELF) != 0 && e.mask & uapi::IN_ISDIR != 0 {
        return bad("ISDIR is never reported with DELETE_SELF or MOVE_SELF");
    }
    if e.mask & (uapi::IN_DELETE_SELF | uapi::IN_MOVE_SELF) != 0 && e.len != 0 {
        return bad("DELETE_SELF and MOVE_SELF carry no name");
    }
    Ok(())
}

/// What one drain of a quiet instance returned.
pub struct Drained {
    /// The events, in order.
    pub events: Vec<Event>,
    /// The total number of bytes read.
    pub bytes: usize,
}

/// Reads everything queued on an instance that nobody else is reading or generating events
/// for: `FIONREAD`, then a `read()` that must return exactly that many bytes, until `FIONREAD`
/// is 0. Every record is parsed and checked.
pub fn drain(fd: &OwnedFd) -> Result<Drained, String> {
    let mut buf = vec![0u8; 65536];
    let mut out = Drained {
        events: Vec::new(),
        bytes: 0,
    };
    loop {
        let avail = fionread(fd).map_err(|e| format!("FIONREAD: {e}"))?;
        if avail < 0 {
            return Err(format!("FIONREAD returned {avail}"));
        }
        if avail == 0 {
            return Ok(out);
        }
        let avail = avail as usize;
        if buf.len() < avail {
            buf.resize(avail, 0);
        }
        let n = read(fd.as_raw_fd(), &mut buf)
            .map_err(|e| format!("read({} bytes) with FIONREAD = {avail}: {e}", buf.len()))?;
        if n != avail {
            return Err(format!(
                "read({} bytes) returned {n}, but FIONREAD said {avail}",
                buf.len()
            ));
        }
        let evs = parse(&buf[..n])?;
        for e in &evs {
            check_well_formed(e)?;
        }
        out.events.extend(evs);
        out.bytes += n;
    }
}

/// Checks that `read()` on an empty non-blocking instance fails with `EAGAIN`.
pub fn expect_eagain(fd: &OwnedFd) -> Result<(), String> {
    let mut buf = [0u8; 4096];
    match read(fd.as_raw_fd(), &mut buf) {
        Err(Errno(libc::EAGAIN)) => Ok(()),
        Err(e) => Err(format!(
            "read on an empty O_NONBLOCK instance: {e}, want EAGAIN"
        )),
        Ok(n) => Err(format!(
            "read on an instance whose FIONREAD was 0 returned {n} bytes, want EAGAIN"
        )),
    }
}
