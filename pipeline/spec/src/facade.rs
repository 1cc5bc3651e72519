//! Facade calibration: a plane homography from image coordinates (normalised, `[0, 1]²`) to
//! metres on the facade (`u` from the rectangle's left edge, `h` up from its bottom edge), from
//! four image points of a known facade rectangle, with the floor height and the window columns.
//! The image of a falling object is projected onto the facade plane, where gravity is straight
//! down and metric, whatever the camera's tilt.

/// A 3×3 projective transform, row-major.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Homography([f64; 9]);

impl Homography {
    /// The transform taking each `from[i]` to `to[i]`; `None` when three of the points are
    /// (nearly) collinear.
    pub fn from_points(from: [(f64, f64); 4], to: [(f64, f64); 4]) -> Option<Self> {
        // h33 = 1; two equations per correspondence.
        let mut a = [[0.0f64; 8]; 8];
        let mut b = [0.0f64; 8];
        for (i, (&(x, y), &(u, v))) in from.iter().zip(&to).enumerate() {
            a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y];
            a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y];
            (b[2 * i], b[2 * i + 1]) = (u, v);
        }
        let h = solve(a, b)?;
        let m = [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0];
        m.iter().all(|v| v.is_finite()).then_some(Self(m))
    }

    /// Its nine entries, row by row (the last is 1).
    pub fn matrix(&self) -> [f64; 9] {
        self.0
    }

    /// The projective scale at `(x, y)`: its sign tells which side of the horizon the point
    /// lies on.
    pub fn scale(&self, (x, y): (f64, f64)) -> f64 {
        let m = &self.0;
        m[6] * x + m[7] * y + m[8]
    }

    pub fn apply(&self, (x, y): (f64, f64)) -> Option<(f64, f64)> {
        let m = &self.0;
        let w = m[6] * x + m[7] * y + m[8];
        if w.abs() < 1e-12 {
            return None;
        }
        Some((
            (m[0] * x + m[1] * y + m[2]) / w,
            (m[3] * x + m[4] * y + m[5]) / w,
        ))
    }
}

/// `m x = b` for a small dense system, by Gaussian elimination with partial pivoting; `None`
/// when `m` is (nearly) singular or the solution is not finite.
#[allow(clippy::needless_range_loop)] // matrix indices read best as indices
pub fn solve<const N: usize>(mut m: [[f64; N]; N], mut b: [f64; N]) -> Option<[f64; N]> {
    for col in 0..N {
        let pivot = (col..N).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
        if m[pivot][col].abs() < 1e-12 {
            return None;
        }
        m.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..N {
            let f = m[row][col] / m[col][col];
            for k in col..N {
                m[row][k] -= f * m[col][k];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; N];
    for row in (0..N).rev() {
        let rest: f64 = (row + 1..N).map(|k| m[row][k] * x[k]).sum();
        x[row] = (b[row] - rest) / m[row][row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// A calibrated facade.
#[derive(Clone, Debug, PartialEq)]
pub struct Facade {
    /// Corners in normalised image coordinates: bottom-left, bottom-right, top-right, top-left.
    pub corners: [(f64, f64); 4],
    pub width_m: f64,
    pub height_m: f64,
    pub floor_height_m: f64,
    /// The floor whose storey starts at the rectangle's bottom edge.
    pub first_floor: i32,
    /// Window columns across the rectangle's width (numbered from 1, left to right).
    pub columns: u32,
    to_facade: Homography,
    to_image: Homography,
}

impl Facade {
    pub fn new(
        corners: [(f64, f64); 4],
        width_m: f64,
        height_m: f64,
        floor_height_m: f64,
        first_floor: i32,
        columns: u32,
    ) -> Result<Self, String> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !(positive(width_m) && positive(height_m) && positive(floor_height_m)) {
            return Err("width_m, height_m and floor_height_m must be positive".into());
        }
        if columns == 0 {
            return Err("columns must be at least 1".into());
        }
        let metres = [
            (0.0, 0.0),
            (width_m, 0.0),
            (width_m, height_m),
            (0.0, height_m),
        ];
        let (Some(to_facade), Some(to_image)) = (
            Homography::from_points(corners, metres),
            Homography::from_points(metres, corners),
        ) else {
            return Err("three of the four corners lie on one line".into());
        };
        // In order round the rectangle: bottom edge below the top edge (image y grows
        // downwards), left corners left of right ones.
        let [bl, br, tr, tl] = corners;
        if bl.1 <= tl.1 || br.1 <= tr.1 || bl.0 >= br.0 || tl.0 >= tr.0 {
            return Err(
                "corners must be bottom-left, bottom-right, top-right, top-left (image y grows downwards)"
                    .into(),
            );
        }
        Ok(Self {
            corners,
            width_m,
            height_m,
            floor_height_m,
            first_floor,
            columns,
            to_facade,
            to_image,
        })
    }

    /// Facade metres `(u, h)` of a normalised image point.
    pub fn to_facade(&self, p: (f64, f64)) -> Option<(f64, f64)> {
        self.to_facade.apply(p)
    }

    /// Normalised image point of facade metres `(u, h)`.
    pub fn to_image(&self, p: (f64, f64)) -> Option<(f64, f64)> {
        self.to_image.apply(p)
    }

    /// The storey (numbered as `first_floor` numbers the one at the rectangle's bottom edge) at
    /// `h_m` metres up the rectangle.
    pub fn floor_at(&self, h_m: f64) -> i32 {
        self.first_floor + (h_m / self.floor_height_m).floor() as i32
    }

    /// Metres up the rectangle where storey `floor` starts ([`Facade::floor_at`]'s inverse).
    pub fn floor_base_m(&self, floor: i32) -> f64 {
        f64::from(floor - self.first_floor) * self.floor_height_m
    }

    /// Window column (1-based) at `u_m`, clamped to the facade's columns.
    pub fn column_at(&self, u_m: f64) -> u32 {
        let w = self.width_m / f64::from(self.columns);
        ((u_m / w).floor() as i64 + 1).clamp(1, i64::from(self.columns)) as u32
    }

    /// Image-space floor lines (normalised), bottom to top, for overlays.
    pub fn floor_lines(&self) -> Vec<((f64, f64), (f64, f64))> {
        let n = (self.height_m / self.floor_height_m).floor() as usize;
        (0..=n)
            .filter_map(|i| {
                let h = i as f64 * self.floor_height_m;
                Some((self.to_image((0.0, h))?, self.to_image((self.width_m, h))?))
            })
            .collect()
    }
}

/// A trapezoid, as a facade looks from below (the top edge narrower): 30 × 60 m, 3 m floors
/// from floor 1, 10 columns. For tests (the `fixtures` feature).
#[cfg(any(test, feature = "fixtures"))]
pub fn skewed() -> Facade {
    Facade::new(
        [(0.2, 0.9), (0.8, 0.9), (0.7, 0.1), (0.3, 0.1)],
        30.0,
        60.0,
        3.0,
        1,
        10,
    )
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corners_map_to_the_rectangle_and_back() {
        let f = skewed();
        let metres = [(0.0, 0.0), (30.0, 0.0), (30.0, 60.0), (0.0, 60.0)];
        for (c, m) in f.corners.iter().zip(metres) {
            let (u, h) = f.to_facade(*c).unwrap();
            assert!((u - m.0).abs() < 1e-9 && (h - m.1).abs() < 1e-9, "{c:?}");
            let (x, y) = f.to_image(m).unwrap();
            assert!((x - c.0).abs() < 1e-9 && (y - c.1).abs() < 1e-9);
        }
    }

    #[test]
    fn perspective_compresses_upper_floors() {
        let f = skewed();
        // Equal steps in height take fewer image rows higher up the facade.
        let y = |h: f64| f.to_image((15.0, h)).unwrap().1;
        assert!(y(0.0) - y(3.0) > y(57.0) - y(60.0));
        // Floors and columns.
        assert_eq!(f.floor_at(0.1), 1);
        for floor in [1, 7, 21] {
            assert_eq!(f.floor_at(f.floor_base_m(floor) + 0.1), floor);
        }
        assert_eq!(f.floor_at(2.99), 1);
        assert_eq!(f.floor_at(3.0), 2);
        assert_eq!(f.floor_at(59.0), 20);
        assert_eq!(f.column_at(-1.0), 1);
        assert_eq!(f.column_at(4.0), 2);
        assert_eq!(f.column_at(31.0), 10);
        assert_eq!(f.floor_lines().len(), 21);
    }

    #[test]
    fn bad_calibrations_are_refused() {
        let line = [(0.1, 0.9), (0.5, 0.9), (0.9, 0.9), (0.3, 0.1)];
        assert!(Facade::new(line, 30.0, 60.0, 3.0, 1, 10).is_err());
        let upside_down = [(0.3, 0.1), (0.7, 0.1), (0.8, 0.9), (0.2, 0.9)];
        assert!(Facade::new(upside_down, 30.0, 60.0, 3.0, 1, 10).is_err());
        let square = [(0.2, 0.9), (0.8, 0.9), (0.8, 0.1), (0.2, 0.1)];
        assert!(Facade::new(square, 30.0, 0.0, 3.0, 1, 10).is_err());
        assert!(Facade::new(square, 30.0, 60.0, 3.0, 1, 0).is_err());
    }
}
