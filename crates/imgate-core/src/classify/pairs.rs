//! Where a test of two neighbouring bytes holds in a text, found a block at a time so that the test vectorises:
//! the candidate search of the normalising steps that look for rare places (a symbol after a letter, a letter
//! after a Chinese character).

/// Pushes to `out`, in order, `i + 1` for every `i` where `hit(bytes[i], bytes[i + 1])`. Blocks of 32 pairs are
/// first tested without an early exit inside (a branch-free `hit` vectorises); only a block with a hit is looked
/// at pair by pair, so a test that holds at few places costs well under an instruction per byte.
#[inline]
pub fn push_pair_hits(bytes: &[u8], hit: impl Fn(u8, u8) -> bool, out: &mut Vec<usize>) {
    let pairs = bytes.len().saturating_sub(1);
    let mut base = 0;
    while base < pairs {
        let end = (base + 32).min(pairs);
        let (Some(x), Some(y)) = (bytes.get(base..end), bytes.get(base + 1..end + 1)) else {
            return;
        };
        if x.iter().zip(y).fold(false, |any, (&x, &y)| any | hit(x, y)) {
            for (k, (&x, &y)) in x.iter().zip(y).enumerate() {
                if hit(x, y) {
                    out.push(base + k + 1);
                }
            }
        }
        base = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hit_is_found_in_order_at_every_offset() {
        for len in 0..100 {
            for at in 0..len {
                let mut bytes = vec![b'a'; len];
                bytes[at] = b'#';
                let mut out = Vec::new();
                push_pair_hits(&bytes, |x, y| x == b'a' && y == b'#', &mut out);
                let want: Vec<usize> = if at > 0 { vec![at] } else { vec![] };
                assert_eq!(out, want, "len {len} at {at}");
            }
        }
    }
}
