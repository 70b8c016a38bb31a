//! Field validators for real-name registration.
//!
//! Each validator is a pure function of its input (and, for dates, a `today` the caller
//! passes in) that returns either a canonical form of the value or a typed error with a
//! stable `subcode()` (`checksum`, `prefix`, ...). The registration rule engine
//! (`crate::register`) turns those into reason codes such as
//! `registration.id_number.checksum`. Error texts never contain the value.

pub mod date;
pub mod divisions;
pub mod generic;
pub mod mobile;
pub mod name;
pub mod resident_id;

pub use date::Date;
pub use divisions::{Divisions, DivisionsError, RESIDENCE_PERMIT_PREFIXES};
pub use generic::{FullMatch, GenericError};
pub use mobile::{
    validate_cn_mobile, validate_e164, E164Error, MobileError, MobilePrefixes, PrefixListError,
    DEFAULT_MOBILE_PREFIXES,
};
pub use name::{validate_person_name, NameError, NameOptions, MIDDLE_DOT};
pub use resident_id::{
    check_char, validate_resident_id, IdKind, ResidentId, ResidentIdError, ResidentIdOptions,
};
