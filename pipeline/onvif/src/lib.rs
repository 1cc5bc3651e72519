//! ONVIF onboarding, so integrators need not copy RTSP URLs from each camera's web page:
//!
//! - [`discovery`]: a WS-Discovery probe for network video transmitters (multicast on the LAN,
//!   or sent to one address), and the devices that answer;
//! - [`soap`]: SOAP 1.2 calls with a WS-Security UsernameToken (password digest), answers and
//!   faults read by namespace, bounded in size and time;
//! - [`profile_s`]: what Profile S cameras answer — its clock (requests are dated by it), the
//!   device's information and media service, its media profiles (encoding, resolution, frame
//!   rate) and each profile's RTSP URI.
//!
//! GB/T 28181 cameras speak SIP to a platform, not ONVIF; README says how they reach vigil
//! (a gateway that re-publishes them as RTSP).

pub mod discovery;
pub mod profile_s;
pub mod soap;

pub use discovery::{Found, probe};
pub use profile_s::{Device, Profile, onboard};
pub use soap::{Client, OnvifError};
