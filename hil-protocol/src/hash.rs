//! Hash that identifies a policy file on both sides of the link.

/// FNV-1a (64-bit) hash of the raw policy-file bytes.
///
/// The firmware build script computes it over the file it embeds and the board announces it in
/// [`crate::Hello`]; the host computes it over the file it expects and compares.
pub const fn policy_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

#[cfg(test)]
mod tests {
    use super::policy_hash;

    #[test]
    fn known_vectors() {
        // Reference values of FNV-1a 64.
        assert_eq!(policy_hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(policy_hash(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(policy_hash(b"ab"), policy_hash(b"ba"));
    }
}
