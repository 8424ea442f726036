//! A reader for the metadata section of a GGUF model file (llama.cpp's format), enough to take
//! the chat template and special tokens without touching tensor data.
//!
//! Layout (little-endian): magic `GGUF`, version u32 (2 or 3), tensor count u64, key/value count
//! u64, then per pair a key string (u64 length + UTF-8), a value type u32 and the value. Tensor
//! descriptors follow (name, dimension count u32, dimensions u64 each, ggml type u32, offset
//! u64), then the data, aligned to `general.alignment` (32 by default). [`GgufMetadata::read`]
//! stops before the descriptors; [`GgufMetadata::read_with_tensors`] reads them too, for the
//! embedded model's loader. Every length is checked against [`GgufLimits`] before anything is
//! allocated, so a corrupt or hostile file fails cleanly.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use indexmap::IndexMap;

use crate::error::PromptError;

/// One metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum GgufValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    Array(Vec<GgufValue>),
    U64(u64),
    I64(i64),
    F64(f64),
}

impl GgufValue {
    /// Any non-negative integer value.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            GgufValue::U8(v) => Some(v.into()),
            GgufValue::U16(v) => Some(v.into()),
            GgufValue::U32(v) => Some(v.into()),
            GgufValue::U64(v) => Some(v),
            GgufValue::I8(v) => u64::try_from(v).ok(),
            GgufValue::I16(v) => u64::try_from(v).ok(),
            GgufValue::I32(v) => u64::try_from(v).ok(),
            GgufValue::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            GgufValue::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[GgufValue]> {
        match self {
            GgufValue::Array(a) => Some(a),
            _ => None,
        }
    }
}

/// One tensor in a GGUF file's index.
#[derive(Debug, Clone, PartialEq)]
pub struct GgufTensorInfo {
    pub name: String,
    /// Dimensions as the file lists them: the first varies fastest (a matrix row's length).
    pub dims: Vec<u64>,
    /// ggml's type id (0 f32, 1 f16, 2 Q4_0, 3 Q4_1, 6 Q5_0, 7 Q5_1, 8 Q8_0, 10–14 Q2_K–Q6_K,
    /// 30 bf16, …).
    pub ggml_type: u32,
    /// Where the tensor's data starts in the file, in bytes.
    pub offset: u64,
}

/// Bounds on what the reader accepts.
#[derive(Debug, Clone)]
pub struct GgufLimits {
    pub max_kv_count: u64,
    pub max_string_bytes: u64,
    pub max_array_len: u64,
    pub max_array_depth: usize,
    /// Total bytes of the metadata section.
    pub max_metadata_bytes: u64,
}

impl Default for GgufLimits {
    fn default() -> Self {
        GgufLimits {
            max_kv_count: 1 << 20,
            max_string_bytes: 64 << 20,
            max_array_len: 1 << 24,
            max_array_depth: 4,
            max_metadata_bytes: 1 << 30,
        }
    }
}

/// The header and metadata of a GGUF file.
#[derive(Debug, Clone, PartialEq)]
pub struct GgufMetadata {
    origin: String,
    pub version: u32,
    pub tensor_count: u64,
    pub entries: IndexMap<String, GgufValue>,
}

impl GgufMetadata {
    /// Reads the metadata of the file at `path` (only the metadata section is read).
    pub fn read_file(path: &Path, limits: &GgufLimits) -> Result<GgufMetadata, PromptError> {
        let origin = path.display().to_string();
        let file = File::open(path).map_err(|e| PromptError::Gguf {
            origin: origin.clone(),
            message: format!("cannot open: {e}"),
        })?;
        GgufMetadata::read(BufReader::new(file), &origin, limits)
    }

    /// Reads metadata from `reader`, positioned at the start of a GGUF file. `origin` names the
    /// source in errors.
    pub fn read(
        reader: impl Read,
        origin: &str,
        limits: &GgufLimits,
    ) -> Result<GgufMetadata, PromptError> {
        let mut r = Reader {
            inner: reader,
            origin,
            limits,
            consumed: 0,
            key: None,
        };
        Self::read_from(&mut r)
    }

    /// Reads the metadata and then the tensor descriptors, each with the absolute offset of
    /// its data in the file.
    pub fn read_with_tensors(
        reader: impl Read,
        origin: &str,
        limits: &GgufLimits,
    ) -> Result<(GgufMetadata, Vec<GgufTensorInfo>), PromptError> {
        let mut r = Reader {
            inner: reader,
            origin,
            limits,
            consumed: 0,
            key: None,
        };
        let meta = Self::read_from(&mut r)?;
        r.key = None;
        if meta.tensor_count > limits.max_array_len {
            return Err(r.err(format!(
                "{} tensors exceed the limit of {}",
                meta.tensor_count, limits.max_array_len
            )));
        }
        let mut tensors = Vec::with_capacity(meta.tensor_count as usize);
        for i in 0..meta.tensor_count {
            let name = r.string(&format!("name of tensor {i}"))?;
            let n_dims = r.u32(&format!("dimension count of tensor '{name}'"))?;
            if n_dims == 0 || n_dims > 4 {
                return Err(r.err(format!("tensor '{name}' has {n_dims} dimensions")));
            }
            let mut dims = Vec::with_capacity(n_dims as usize);
            for _ in 0..n_dims {
                dims.push(r.u64(&format!("dimensions of tensor '{name}'"))?);
            }
            let ggml_type = r.u32(&format!("type of tensor '{name}'"))?;
            let offset = r.u64(&format!("offset of tensor '{name}'"))?;
            tensors.push(GgufTensorInfo {
                name,
                dims,
                ggml_type,
                offset,
            });
        }
        let align = match meta.get("general.alignment").and_then(GgufValue::as_u64) {
            None => 32,
            Some(a) if a > 0 && a.is_power_of_two() => a,
            Some(a) => return Err(r.err(format!("general.alignment {a} is not a power of two"))),
        };
        let data_start = r.consumed.div_ceil(align) * align;
        for t in &mut tensors {
            t.offset = t
                .offset
                .checked_add(data_start)
                .ok_or_else(|| r.err(format!("tensor '{}' has an offset past any file", t.name)))?;
        }
        Ok((meta, tensors))
    }

    fn read_from<R: Read>(r: &mut Reader<'_, R>) -> Result<GgufMetadata, PromptError> {
        let (origin, limits) = (r.origin, r.limits);
        let mut magic = [0u8; 4];
        r.bytes(&mut magic, "magic")?;
        if &magic != b"GGUF" {
            return Err(r.err(format!("not a GGUF file (magic {magic:02x?})")));
        }
        let version = r.u32("version")?;
        match version {
            2 | 3 => {}
            1 => return Err(r.err("GGUF version 1 is not supported (32-bit lengths)".into())),
            v if v.swap_bytes() <= 3 => {
                return Err(r.err("big-endian GGUF files are not supported".into()))
            }
            v => return Err(r.err(format!("unsupported GGUF version {v}"))),
        }
        let tensor_count = r.u64("tensor count")?;
        let kv_count = r.u64("metadata count")?;
        if kv_count > limits.max_kv_count {
            return Err(r.err(format!(
                "{kv_count} metadata entries exceed the limit of {}",
                limits.max_kv_count
            )));
        }
        let mut entries = IndexMap::new();
        for i in 0..kv_count {
            r.key = None;
            let key = r.string(&format!("key of entry {i}"))?;
            r.key = Some(key.clone());
            let ty = r.u32("value type")?;
            let value = r.value(ty, 0)?;
            entries.insert(key, value);
        }
        Ok(GgufMetadata {
            origin: origin.to_string(),
            version,
            tensor_count,
            entries,
        })
    }

    /// Where the metadata came from (a path, or the caller's label).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn get(&self, key: &str) -> Option<&GgufValue> {
        self.entries.get(key)
    }

    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(GgufValue::as_str)
    }

    /// Token text by id from `tokenizer.ggml.tokens`.
    pub fn token(&self, id: usize) -> Option<&str> {
        self.get("tokenizer.ggml.tokens")?
            .as_array()?
            .get(id)?
            .as_str()
    }
}

struct Reader<'a, R> {
    inner: R,
    origin: &'a str,
    limits: &'a GgufLimits,
    consumed: u64,
    key: Option<String>,
}

impl<R: Read> Reader<'_, R> {
    fn err(&self, message: String) -> PromptError {
        let message = match &self.key {
            Some(k) => format!("metadata key '{k}': {message}"),
            None => message,
        };
        PromptError::Gguf {
            origin: self.origin.to_string(),
            message,
        }
    }

    fn bytes(&mut self, buf: &mut [u8], what: &str) -> Result<(), PromptError> {
        self.consumed += buf.len() as u64;
        if self.consumed > self.limits.max_metadata_bytes {
            return Err(self.err(format!(
                "metadata is larger than the limit of {} bytes",
                self.limits.max_metadata_bytes
            )));
        }
        self.inner.read_exact(buf).map_err(|e| {
            let at = self.consumed - buf.len() as u64;
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                self.err(format!("file ends inside the {what} at byte {at}"))
            } else {
                self.err(format!("read error in the {what} at byte {at}: {e}"))
            }
        })
    }

    fn u32(&mut self, what: &str) -> Result<u32, PromptError> {
        let mut b = [0u8; 4];
        self.bytes(&mut b, what)?;
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self, what: &str) -> Result<u64, PromptError> {
        let mut b = [0u8; 8];
        self.bytes(&mut b, what)?;
        Ok(u64::from_le_bytes(b))
    }

    fn string(&mut self, what: &str) -> Result<String, PromptError> {
        let len = self.u64(what)?;
        if len > self.limits.max_string_bytes {
            return Err(self.err(format!(
                "{what}: string of {len} bytes exceeds the limit of {}",
                self.limits.max_string_bytes
            )));
        }
        let mut buf = vec![0u8; len as usize];
        self.bytes(&mut buf, what)?;
        String::from_utf8(buf).map_err(|_| self.err(format!("{what}: string is not UTF-8")))
    }

    fn value(&mut self, ty: u32, depth: usize) -> Result<GgufValue, PromptError> {
        macro_rules! num {
            ($t:ty, $variant:ident) => {{
                let mut b = [0u8; std::mem::size_of::<$t>()];
                self.bytes(&mut b, "value")?;
                GgufValue::$variant(<$t>::from_le_bytes(b))
            }};
        }
        Ok(match ty {
            0 => num!(u8, U8),
            1 => num!(i8, I8),
            2 => num!(u16, U16),
            3 => num!(i16, I16),
            4 => num!(u32, U32),
            5 => num!(i32, I32),
            6 => num!(f32, F32),
            7 => {
                let mut b = [0u8; 1];
                self.bytes(&mut b, "value")?;
                match b[0] {
                    0 => GgufValue::Bool(false),
                    1 => GgufValue::Bool(true),
                    other => return Err(self.err(format!("bool byte {other} is not 0 or 1"))),
                }
            }
            8 => GgufValue::String(self.string("string value")?),
            9 => {
                if depth >= self.limits.max_array_depth {
                    return Err(self.err("arrays nested too deeply".into()));
                }
                let elem = self.u32("array element type")?;
                let len = self.u64("array length")?;
                if len > self.limits.max_array_len {
                    return Err(self.err(format!(
                        "array of {len} elements exceeds the limit of {}",
                        self.limits.max_array_len
                    )));
                }
                let mut items = Vec::with_capacity(len.min(1 << 16) as usize);
                for _ in 0..len {
                    items.push(self.value(elem, depth + 1)?);
                }
                GgufValue::Array(items)
            }
            10 => num!(u64, U64),
            11 => num!(i64, I64),
            12 => num!(f64, F64),
            other => return Err(self.err(format!("unknown value type {other}"))),
        })
    }
}
