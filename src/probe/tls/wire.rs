//! Wire primitives for hand-built TLS messages: a cursor reader that returns errors instead of
//! panicking, and a writer whose length prefixes are fixed up after the body is written.
//!
//! Modelled on rustls' `msgs::codec` (`Reader`, `LengthPrefixedBuffer`). Every read is bounds
//! checked, so hostile bytes can only ever produce a [`WireError`].

/// Reading ran past the end of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("truncated: needed {needed} more byte(s), {available} left")]
pub struct WireError {
    /// Bytes the read wanted.
    pub needed: usize,
    /// Bytes that were left.
    pub available: usize,
}

/// A cursor over a byte slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.remaining() {
            return Err(WireError {
                needed: n,
                available: self.remaining(),
            });
        }
        let slice = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        let slice = &self.buf[self.pos..];
        self.pos = self.buf.len();
        slice
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    /// A big-endian u16.
    pub fn u16(&mut self) -> Result<u16, WireError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// A big-endian u24.
    pub fn u24(&mut self) -> Result<u32, WireError> {
        let b = self.take(3)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    /// A sub-reader over a body prefixed by a one-byte length.
    pub fn prefixed_u8(&mut self) -> Result<Reader<'a>, WireError> {
        let len = usize::from(self.u8()?);
        Ok(Reader::new(self.take(len)?))
    }

    /// A sub-reader over a body prefixed by a two-byte length.
    pub fn prefixed_u16(&mut self) -> Result<Reader<'a>, WireError> {
        let len = usize::from(self.u16()?);
        Ok(Reader::new(self.take(len)?))
    }

    /// A sub-reader over a body prefixed by a three-byte length.
    pub fn prefixed_u24(&mut self) -> Result<Reader<'a>, WireError> {
        let len = self.u24()? as usize;
        Ok(Reader::new(self.take(len)?))
    }
}

/// A TLS 1.2 record (version 3.3) of `content_type` carrying `body`.
pub fn tls12_record(content_type: u8, body: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u8(content_type).u16(0x0303).prefixed_u16(|w| {
        w.bytes(body);
    });
    w.into_bytes()
}

/// A handshake message: its type, then `body` behind a 24-bit length.
pub fn handshake_message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u8(kind).prefixed_u24(|w| {
        w.bytes(body);
    });
    w.into_bytes()
}

/// A growable buffer with big-endian writers and length-prefixed sections.
#[derive(Debug, Clone, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    /// Appends a big-endian u16.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Appends a big-endian u24 (the top byte of `v` is dropped).
    pub fn u24(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes()[1..]);
        self
    }

    /// Appends raw bytes.
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }

    /// Writes `body` behind a length prefix of `width` bytes (1, 2 or 3), fixed up afterwards.
    fn prefixed(&mut self, width: usize, body: impl FnOnce(&mut Writer)) -> &mut Self {
        let at = self.buf.len();
        self.buf.extend(std::iter::repeat_n(0, width));
        body(self);
        let len = self.buf.len() - at - width;
        let be = (len as u32).to_be_bytes();
        self.buf[at..at + width].copy_from_slice(&be[4 - width..]);
        self
    }

    /// `body` behind a one-byte length.
    pub fn prefixed_u8(&mut self, body: impl FnOnce(&mut Writer)) -> &mut Self {
        self.prefixed(1, body)
    }

    /// `body` behind a two-byte length.
    pub fn prefixed_u16(&mut self, body: impl FnOnce(&mut Writer)) -> &mut Self {
        self.prefixed(2, body)
    }

    /// `body` behind a three-byte length.
    pub fn prefixed_u24(&mut self, body: impl FnOnce(&mut Writer)) -> &mut Self {
        self.prefixed(3, body)
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The finished bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_fixed_up() {
        let mut w = Writer::new();
        w.u8(1).prefixed_u16(|w| {
            w.u16(0xabcd).prefixed_u8(|w| {
                w.bytes(b"xyz");
            });
        });
        w.prefixed_u24(|w| {
            w.u24(0x010203);
        });
        assert_eq!(
            w.into_bytes(),
            [1, 0, 6, 0xab, 0xcd, 3, b'x', b'y', b'z', 0, 0, 3, 1, 2, 3]
        );
    }

    #[test]
    fn reader_round_trips_and_never_overreads() {
        let bytes = [1, 0, 6, 0xab, 0xcd, 3, b'x', b'y', b'z', 0, 0, 3, 1, 2, 3];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8().unwrap(), 1);
        let mut inner = r.prefixed_u16().unwrap();
        assert_eq!(inner.u16().unwrap(), 0xabcd);
        assert_eq!(inner.prefixed_u8().unwrap().rest(), b"xyz");
        assert!(inner.is_empty());
        assert_eq!(r.prefixed_u24().unwrap().u24().unwrap(), 0x010203);
        assert!(r.is_empty());
        assert_eq!(
            r.u16(),
            Err(WireError {
                needed: 2,
                available: 0
            })
        );
        let mut short = Reader::new(&[0, 9, 1]);
        assert!(short.prefixed_u16().is_err());
    }
}
