//! Fire lanes (消防通道) kept clear of anything: the `lane_obstructed` rule.
//!
//! A fire lane is blocked as often by an e-bike, a delivery tricycle, stacked goods or debris as
//! by a car, and a detector trained on COCO names few of those. So the rule does not wait for a
//! class: it reads the camera's static-object detector (`vigil-scene`, the same machinery the
//! waste rules use), set up for lanes:
//!
//! - only people hide the ground (someone standing in the lane is not an obstruction); vehicles
//!   and everything else become static objects once they stop moving;
//! - an obstruction never fades into the background however long it stays (a car parked for a
//!   day is still in the way), and the empty lane is learned only where nothing stands.
//!
//! [`LaneEngine`] raises one alert per obstruction — an object that has stood in the lane for the
//! rule's `dwell_secs` and covers at least `min_fraction` of it — with its outline and, when a
//! detection over it names it, its class (car, motorcycle, bicycle …); the alert ends when the
//! object is gone. Moving traffic and people walking through never stand still long enough.
//!
//! With the lane's ground calibration (`min_width_m` and `ground`), the rule asks for a passage
//! instead of a share of the zone: [`passage`] puts each object's foot on the ground, and one
//! alert is raised per group of objects that leaves less than `min_width_m` open between the
//! kerbs, ended when the passage is open again.

//!
//! A `dwell` rule on the same zone sees a parked car too; [`OneAlert`] makes the two rules' alerts
//! about one object one alert.

mod engine;
mod merge;
pub mod passage;

pub use engine::{LaneEngine, scene_config};
pub use merge::OneAlert;
pub use vigil_scene::{SceneConfig, SceneStats, StaticObject};
pub use vigil_spec::lane::LaneRule;
