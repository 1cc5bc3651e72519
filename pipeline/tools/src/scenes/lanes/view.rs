//! Where the lane camera stands and how it sees the ground: a pinhole camera `height_m` above
//! the ground, looking along the lane and `tilt_deg` down, `offset_m` to the side of the lane's
//! centre line. World: x across the lane (metres from its centre line), y up, z along the lane
//! away from the camera's foot.

use vigil_core::{PointNorm, PolygonNorm};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub width: u32,
    pub height: u32,
    pub height_m: f64,
    /// Down from the horizontal.
    pub tilt_deg: f64,
    pub hfov_deg: f64,
    pub offset_m: f64,
    /// The lane's width.
    pub lane_m: f64,
}

impl View {
    fn focal(&self) -> f64 {
        f64::from(self.width) / 2.0 / (self.hfov_deg.to_radians() / 2.0).tan()
    }

    /// (right, up, forward) unit vectors of the camera in the world.
    fn axes(&self) -> ([f64; 3], [f64; 3], [f64; 3]) {
        let (s, c) = self.tilt_deg.to_radians().sin_cos();
        ([1.0, 0.0, 0.0], [0.0, c, s], [0.0, -s, c])
    }

    fn eye(&self) -> [f64; 3] {
        [self.offset_m, self.height_m, 0.0]
    }

    /// The world direction through pixel `(u, v)` (pixel centres at +0.5).
    pub fn ray(&self, u: f64, v: f64) -> [f64; 3] {
        let f = self.focal();
        let (r, up, fw) = self.axes();
        let (x, y) = (
            (u - f64::from(self.width) / 2.0) / f,
            (f64::from(self.height) / 2.0 - v) / f,
        );
        [0, 1, 2].map(|k| r[k] * x + up[k] * y + fw[k])
    }

    /// Where the ray through `(u, v)` meets the ground, `(x, z)`, if it does in front of the
    /// camera.
    pub fn ground(&self, u: f64, v: f64) -> Option<(f64, f64)> {
        let d = self.ray(u, v);
        if d[1] >= -1e-6 {
            return None;
        }
        let t = -self.height_m / d[1];
        let e = self.eye();
        Some((e[0] + t * d[0], e[2] + t * d[2]))
    }

    /// The pixel a world point projects to, if it is in front of the camera.
    pub fn project(&self, p: [f64; 3]) -> Option<(f64, f64)> {
        let e = self.eye();
        let rel = [p[0] - e[0], p[1] - e[1], p[2] - e[2]];
        let (r, up, fw) = self.axes();
        let dot = |a: [f64; 3]| a[0] * rel[0] + a[1] * rel[1] + a[2] * rel[2];
        let z = dot(fw);
        if z < 0.1 {
            return None;
        }
        let f = self.focal();
        Some((
            f64::from(self.width) / 2.0 + f * dot(r) / z,
            f64::from(self.height) / 2.0 - f * dot(up) / z,
        ))
    }

    /// The nearest ground the bottom row of the frame sees along the lane's centre line.
    pub fn near_z(&self) -> f64 {
        self.ground(f64::from(self.width) / 2.0, f64::from(self.height) - 0.5)
            .map_or(0.0, |(_, z)| z)
    }

    /// The stretch of lane the scenes use: from just past the frame's bottom edge, 14 m long
    /// (or as far as the ground is seen, whichever is shorter).
    pub fn stretch(&self) -> (f64, f64) {
        let near = self.near_z() + 0.5;
        let far = (0..self.height)
            .filter_map(|v| self.ground(f64::from(self.width) / 2.0, f64::from(v) + 0.5))
            .map(|(_, z)| z)
            .fold(near, f64::max);
        (near, (near + 14.0).min(near + (far - near) * 0.85))
    }

    /// The lane's ground calibration as an integrator would measure it: the corners of its
    /// stretch, kerb to kerb, where the camera sees them (normalised image points).
    pub fn calibration(&self) -> Option<vigil_spec::lane::Ground> {
        let (near, far) = self.stretch();
        let half = self.lane_m / 2.0;
        let (w, h) = (f64::from(self.width), f64::from(self.height));
        let corner = |x: f64, z: f64| self.project([x, 0.0, z]).map(|(u, v)| (u / w, v / h));
        let corners = [
            corner(-half, near)?,
            corner(half, near)?,
            corner(half, far)?,
            corner(-half, far)?,
        ];
        vigil_spec::lane::Ground::new(corners, self.lane_m, far - near).ok()
    }

    /// The lane (its stretch, full width) as a zone: its outline projected and clipped to the
    /// frame.
    pub fn lane_zone(&self) -> PolygonNorm {
        let (near, far) = self.stretch();
        let half = self.lane_m / 2.0;
        let mut outline = Vec::new();
        // Along each edge in steps, so the clipped outline follows the perspective.
        for k in 0..=8 {
            let z = near + (far - near) * f64::from(k) / 8.0;
            outline.extend(self.project([-half, 0.0, z]));
        }
        for k in (0..=8).rev() {
            let z = near + (far - near) * f64::from(k) / 8.0;
            outline.extend(self.project([half, 0.0, z]));
        }
        let (w, h) = (f64::from(self.width), f64::from(self.height));
        let unit: Vec<(f64, f64)> = outline.into_iter().map(|(u, v)| (u / w, v / h)).collect();
        let clipped = clip_to_unit_square(&unit);
        PolygonNorm::new(
            clipped
                .into_iter()
                .map(|(x, y)| PointNorm {
                    x: x.clamp(0.0, 1.0),
                    y: y.clamp(0.0, 1.0),
                })
                .collect(),
        )
        .expect("a lane seen by the camera makes a valid zone")
    }
}

/// Sutherland–Hodgman: `poly` clipped to [0, 1]².
fn clip_to_unit_square(poly: &[(f64, f64)]) -> Vec<(f64, f64)> {
    type Inside = fn((f64, f64)) -> bool;
    type Cross = fn((f64, f64), (f64, f64)) -> (f64, f64);
    let edges: [(Inside, Cross); 4] = [
        (
            |p| p.0 >= 0.0,
            |a, b| lerp_at(a, b, (0.0 - a.0) / (b.0 - a.0)),
        ),
        (
            |p| p.0 <= 1.0,
            |a, b| lerp_at(a, b, (1.0 - a.0) / (b.0 - a.0)),
        ),
        (
            |p| p.1 >= 0.0,
            |a, b| lerp_at(a, b, (0.0 - a.1) / (b.1 - a.1)),
        ),
        (
            |p| p.1 <= 1.0,
            |a, b| lerp_at(a, b, (1.0 - a.1) / (b.1 - a.1)),
        ),
    ];
    let mut out = poly.to_vec();
    for (inside, cross) in edges {
        let input = std::mem::take(&mut out);
        for (i, &cur) in input.iter().enumerate() {
            let prev = input[(i + input.len() - 1) % input.len()];
            match (inside(prev), inside(cur)) {
                (true, true) => out.push(cur),
                (true, false) => out.push(cross(prev, cur)),
                (false, true) => {
                    out.push(cross(prev, cur));
                    out.push(cur);
                }
                (false, false) => {}
            }
        }
    }
    out
}

fn lerp_at(a: (f64, f64), b: (f64, f64), t: f64) -> (f64, f64) {
    (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> View {
        View {
            width: 320,
            height: 180,
            height_m: 6.0,
            tilt_deg: 45.0,
            hfov_deg: 80.0,
            offset_m: 1.0,
            lane_m: 4.0,
        }
    }

    #[test]
    fn a_ground_point_projects_back_to_its_pixel() {
        let v = view();
        for (u, px) in [(10.0, 170.0), (160.0, 90.0), (300.0, 120.0)] {
            let (x, z) = v.ground(u, px).expect("below the horizon");
            let (bu, bv) = v.project([x, 0.0, z]).expect("in front");
            assert!(
                (bu - u).abs() < 1e-6 && (bv - px).abs() < 1e-6,
                "{u},{px} → {bu},{bv}"
            );
        }
    }

    #[test]
    fn the_lane_zone_lies_in_the_frame_and_covers_part_of_it() {
        let zone = view().lane_zone();
        let pts = zone.points();
        assert!(
            pts.iter()
                .all(|p| (0.0..=1.0).contains(&p.x) && (0.0..=1.0).contains(&p.y))
        );
        let inside = (0..100)
            .flat_map(|i| (0..100).map(move |j| (i, j)))
            .filter(|&(i, j)| {
                zone.contains(PointNorm {
                    x: (f64::from(i) + 0.5) / 100.0,
                    y: (f64::from(j) + 0.5) / 100.0,
                })
            })
            .count();
        assert!((500..8000).contains(&inside), "{inside} of 10000");
    }
}
