//! Large `f32` buffers (attention maps, tokens) serialised as one block of little-endian bytes, so
//! postcard copies megabytes instead of visiting each float.

use serde::{Deserializer, Serializer};

/// On little-endian machines (WebAssembly, x86, ARM as run) the floats are written as the bytes
/// they already are: a 518-px model's 540 MB of attention is not copied once more on its way out.
pub fn serialize<S: Serializer>(values: &[f32], s: S) -> Result<S::Ok, S::Error> {
    if cfg!(target_endian = "little") {
        s.serialize_bytes(bytemuck::cast_slice(values))
    } else {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        s.serialize_bytes(&bytes)
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = Vec<f32>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("little-endian f32 bytes")
        }
        fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Vec<f32>, E> {
            if !bytes.len().is_multiple_of(4) {
                return Err(E::custom(format!("{} bytes are not a whole number of f32 values", bytes.len())));
            }
            Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
        }
        fn visit_byte_buf<E: serde::de::Error>(self, bytes: Vec<u8>) -> Result<Vec<f32>, E> {
            self.visit_bytes(&bytes)
        }
    }
    d.deserialize_bytes(Visitor)
}

#[cfg(test)]
mod tests {
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Buffer(#[serde(with = "super")] Vec<f32>);

    #[test]
    fn floats_cross_bit_for_bit_as_bytes() {
        let values = Buffer(vec![0.0, -1.5, f32::MIN_POSITIVE, 3.4e38, f32::NAN.copysign(-1.0)]);
        let bytes = postcard::to_allocvec(&values).unwrap();
        // One length byte, then four bytes a float.
        assert_eq!(bytes.len(), 1 + 4 * 5);
        let back: Buffer = postcard::from_bytes(&bytes).unwrap();
        let bits = |b: &Buffer| b.0.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&values));
        let odd = postcard::to_allocvec(&serde_bytes_of(&[1, 2, 3])).unwrap();
        assert!(postcard::from_bytes::<Buffer>(&odd).is_err());
    }

    fn serde_bytes_of(b: &[u8]) -> impl serde::Serialize + '_ {
        struct Raw<'a>(&'a [u8]);
        impl serde::Serialize for Raw<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(self.0)
            }
        }
        Raw(b)
    }
}
