//! A lane with a width calibration: where what stands in it is on the ground, and the passage it
//! leaves open beside it.
//!
//! Each object's [`Footprint`] comes from its columns ([`vigil_scene::Scene::columns`]) carried
//! onto the lane's ground: how far across the lane its foot reaches (the lowest cell of each
//! column), between the kerbs, and the stretch along it from its foot to where its top would lie
//! on the ground (beyond its real far end by its height's parallax, so that two objects side by
//! side overlap along the lane whichever of their faces the camera sees). Objects whose stretches
//! overlap (through each other) are judged together: at each cross section where one of them
//! begins or ends, or between two such places, the widest gap left between the kerbs is the
//! passage; the narrowest such passage is what the group leaves open.

use vigil_spec::lane::Ground;

/// Where an object stands on the lane's ground, in metres: across it (from the first kerb,
/// within the kerbs) and along it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Footprint {
    pub across: (f64, f64),
    pub along: (f64, f64),
}

impl Footprint {
    /// The footprint of an object whose columns are `columns` (normalised image points of each
    /// column's foot and top); `None` when none of its foot lies on the ground between the
    /// kerbs.
    pub fn on(ground: &Ground, columns: &[[(f64, f64); 2]]) -> Option<Self> {
        let mut across = (f64::INFINITY, f64::NEG_INFINITY);
        let mut along = (f64::INFINITY, f64::NEG_INFINITY);
        for [foot, top] in columns {
            let Some((u, v)) = ground.to_ground(*foot) else {
                continue;
            };
            across = (across.0.min(u), across.1.max(u));
            // A top above the horizon: the far end stays at the foot.
            let far = ground.to_ground(*top).map_or(v, |(_, t)| t.max(v));
            along = (along.0.min(v), along.1.max(far));
        }
        let across = (across.0.max(0.0), across.1.min(ground.width_m));
        (across.0 <= across.1).then_some(Self { across, along })
    }

    fn covers(&self, v: f64) -> bool {
        self.along.0 <= v && v <= self.along.1
    }
}

/// The widest gap between the kerbs (`0` and `width`) that the `taken` stretches across leave.
pub fn widest_gap(width: f64, taken: impl IntoIterator<Item = (f64, f64)>) -> f64 {
    let mut taken: Vec<(f64, f64)> = taken.into_iter().collect();
    taken.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut widest, mut free_from) = (0.0f64, 0.0f64);
    for (a, b) in taken {
        widest = widest.max(a - free_from);
        free_from = free_from.max(b);
    }
    widest.max(width - free_from)
}

/// A group of objects that leaves too narrow a passage: the indices (into the footprints given)
/// of those standing at its narrowest cross section, and the passage left there.
#[derive(Clone, Debug, PartialEq)]
pub struct Blockage {
    pub members: Vec<usize>,
    pub passage_m: f64,
}

/// The groups among `footprints` (objects whose stretches along the lane overlap, through each
/// other) that leave less than `min_width` open between kerbs `width` apart.
pub fn blockages(width: f64, min_width: f64, footprints: &[Footprint]) -> Vec<Blockage> {
    let mut order: Vec<usize> = (0..footprints.len()).collect();
    order.sort_by(|&a, &b| footprints[a].along.0.total_cmp(&footprints[b].along.0));
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut reach = f64::NEG_INFINITY;
    for i in order {
        let f = &footprints[i];
        match groups.last_mut() {
            Some(g) if f.along.0 <= reach => g.push(i),
            _ => groups.push(vec![i]),
        }
        reach = reach.max(f.along.1);
    }
    groups
        .into_iter()
        .filter_map(|g| narrowest(width, footprints, &g))
        .filter(|b| b.passage_m < min_width)
        .collect()
}

/// The narrowest cross section of group `g`: where one of its objects begins or ends along the
/// lane, or half-way between two such places.
fn narrowest(width: f64, footprints: &[Footprint], g: &[usize]) -> Option<Blockage> {
    let mut ends: Vec<f64> = g
        .iter()
        .flat_map(|&i| [footprints[i].along.0, footprints[i].along.1])
        .collect();
    ends.sort_by(f64::total_cmp);
    let halves: Vec<f64> = ends.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect();
    ends.into_iter()
        .chain(halves)
        .map(|v| {
            let members: Vec<usize> = g
                .iter()
                .copied()
                .filter(|&i| footprints[i].covers(v))
                .collect();
            let gap = widest_gap(width, members.iter().map(|&i| footprints[i].across));
            Blockage {
                members,
                passage_m: gap,
            }
        })
        .min_by(|a, b| a.passage_m.total_cmp(&b.passage_m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(across: (f64, f64), along: (f64, f64)) -> Footprint {
        Footprint { across, along }
    }

    #[test]
    fn the_widest_gap_is_between_the_kerbs_and_what_stands_there() {
        let near = |got: f64, want: f64| assert!((got - want).abs() < 1e-9, "{got} ≠ {want}");
        near(widest_gap(4.0, []), 4.0);
        near(widest_gap(4.0, [(0.0, 0.6)]), 3.4);
        near(widest_gap(4.0, [(1.0, 2.8)]), 1.2);
        // Overlapping stretches, given in any order.
        near(widest_gap(5.0, [(3.0, 4.0), (0.5, 1.5), (1.0, 2.0)]), 1.0);
    }

    #[test]
    fn objects_on_both_sides_block_together_only_where_they_stand_side_by_side() {
        let kerb_left = at((0.0, 1.2), (5.0, 6.0));
        let kerb_right = at((3.4, 4.0), (5.5, 7.0));
        // Alone, each leaves 2.8 m or more of a 4 m lane.
        assert!(blockages(4.0, 2.5, &[kerb_left]).is_empty());
        assert!(blockages(4.0, 2.5, &[kerb_right]).is_empty());
        // Side by side (5.5–6 m along), 2.2 m are left: one blockage of both.
        let both = blockages(4.0, 2.5, &[kerb_left, kerb_right]);
        assert_eq!(both.len(), 1, "{both:?}");
        assert_eq!(both[0].members, vec![0, 1]);
        assert!((both[0].passage_m - 2.2).abs() < 1e-9, "{both:?}");
        // One after the other along the lane, the passage weaves between them.
        let after = at((3.4, 4.0), (6.5, 8.0));
        assert!(blockages(4.0, 2.5, &[kerb_left, after]).is_empty());
    }

    #[test]
    fn a_car_in_the_middle_blocks_alone_and_a_second_one_far_along_is_its_own() {
        let car = at((1.2, 3.0), (4.0, 8.5));
        let far = at((0.5, 2.3), (20.0, 24.0));
        let b = blockages(4.0, 3.0, &[car, far]);
        assert_eq!(b.len(), 2, "{b:?}");
        assert_eq!(
            (b[0].members.clone(), b[1].members.clone()),
            (vec![0], vec![1])
        );
    }

    #[test]
    fn a_footprint_is_kept_between_the_kerbs() {
        let g = Ground::new([(0.2, 0.9), (0.8, 0.9), (0.6, 0.4), (0.4, 0.4)], 4.0, 10.0)
            .expect("a rectangle");
        // From left of the first kerb to half-way across the near edge, its top as high in the
        // image as the far edge.
        let f = Footprint::on(&g, &[[(0.1, 0.9), (0.1, 0.6)], [(0.5, 0.9), (0.5, 0.4)]])
            .expect("on the lane");
        assert!(
            (f.across.0 - 0.0).abs() < 1e-9 && (f.across.1 - 2.0).abs() < 1e-9,
            "{f:?}"
        );
        assert!(
            (f.along.0 - 0.0).abs() < 1e-9 && (f.along.1 - 10.0).abs() < 1e-9,
            "{f:?}"
        );
        // Wholly beside the lane.
        let beside = [[(0.05, 0.9), (0.05, 0.8)], [(0.1, 0.9), (0.1, 0.8)]];
        assert_eq!(Footprint::on(&g, &beside), None);
    }
}
