//! Resident ID numbers for the registration scenario: the bench needs many *valid* ones (so the
//! gateway forwards them) and some with a wrong check character (so it rejects them).

/// ISO 7064 MOD 11-2 weights of the first 17 digits (GB 11643-1999).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character by `sum mod 11`.
const CHECK: &[u8; 11] = b"10X98765432";

/// The check character of 17 leading digits, or `None` when `first17` is not 17 ASCII digits.
pub fn check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    Some(char::from(CHECK[(sum % 11) as usize]))
}

/// A valid 18-character ID: Dongcheng district (110101), born 1990-03-07, sequence from `n`.
pub fn valid(n: u64) -> String {
    let first17 = format!("11010119900307{:03}", n % 1000);
    let check = check_char(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

/// The same number as [`valid`] with a wrong check character.
pub fn bad_checksum(n: u64) -> String {
    let good = valid(n);
    let (first17, check) = good.split_at(17);
    let wrong = if check == "0" { '1' } else { '0' };
    format!("{first17}{wrong}")
}

/// Checks the generator against a published GB 11643 example, so a broken check digit shows
/// up as a setup error rather than as a flood of 422s in the "valid" variant. (The bench has no
/// test harness, so this runs at start.)
pub fn self_check() -> Result<(), String> {
    if check_char("11010519491231002") != Some('X') {
        return Err("ID check-digit generator is wrong on 11010519491231002X".into());
    }
    if (0..50).any(|n| valid(n) == bad_checksum(n)) {
        return Err("bad_checksum() produced a valid ID".into());
    }
    Ok(())
}
