//! The pingora adapter: maps proxy phases to the policy core and writes JSON errors.
//! No policy logic lives here.

mod body;
mod canned;
mod events;
mod exchange;
mod gateway;
mod headers;
mod inspect;
mod marking;
mod middleware;
mod preface;
mod respond;
mod upstream;

pub use canned::Refusals;
pub use events::{CategoryScore, EventSink, NoEvents, RequestEvent};
pub use gateway::Gateway;
pub use middleware::{Imgate, ImgateCtx, Outcome, METHOD_OVERRIDE_HEADERS};
pub use preface::{FirstBytes, Replayed, H2_PREFACE};
pub use upstream::{HealthCheckService, Upstreams};
