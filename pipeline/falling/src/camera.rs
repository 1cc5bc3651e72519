//! The camera behind a facade calibration: focal length and pose recovered from the homography
//! of the calibrated rectangle, so that a fall can be fitted in 3-D in front of the wall rather
//! than on its plane.
//!
//! Facade coordinates are metres: `u` along the facade from the rectangle's left edge, `h` up
//! from its bottom edge, `n` out of the wall towards the camera. The image is `width × height`
//! pixels with the principal point at its centre and square pixels. The rectangle's homography
//! is `K [r1 r2 t]` up to scale; its first two columns, rotated vectors of equal length at right
//! angles, give the focal length (two equations in `1/f²`, solved together, so that a camera
//! facing the wall squarely — where one of them vanishes — still has one) unless the lens is
//! known (`hfov_deg`); then the rotation and the camera's place follow.

use vigil_spec::facade::{Facade, Homography};

/// A pinhole camera in facade coordinates.
#[derive(Clone, Debug, PartialEq)]
pub struct FacadeCamera {
    /// Focal length, pixels.
    pub focal_px: f64,
    pub width: f64,
    pub height: f64,
    /// Rows: the camera's right, down and forward axes in facade coordinates.
    pub rotation: [[f64; 3]; 3],
    /// The camera's centre in facade coordinates (`n` > 0: in front of the wall).
    pub centre: [f64; 3],
}

/// The dot product of two 3-vectors.
pub(crate) fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn scaled(a: [f64; 3], k: f64) -> [f64; 3] {
    a.map(|v| v * k)
}

fn unit(a: [f64; 3]) -> [f64; 3] {
    scaled(a, 1.0 / dot(a, a).sqrt())
}

impl FacadeCamera {
    /// The camera of a `width × height` image whose facade calibration is `facade`; `hfov_deg`
    /// when the lens is known.
    pub fn recover(
        facade: &Facade,
        (width, height): (u32, u32),
        hfov_deg: Option<f64>,
    ) -> Result<Self, String> {
        let (w, h) = (f64::from(width), f64::from(height));
        // Facade metres → pixels centred on the principal point.
        let metres = [
            (0.0, 0.0),
            (facade.width_m, 0.0),
            (facade.width_m, facade.height_m),
            (0.0, facade.height_m),
        ];
        let pixels = facade
            .corners
            .map(|(x, y)| (x * w - w / 2.0, y * h - h / 2.0));
        let m = Homography::from_points(metres, pixels)
            .ok_or("the calibration's corners give no homography")?
            .matrix();
        let (h1, h2, h3) = ([m[0], m[3], m[6]], [m[1], m[4], m[7]], [m[2], m[5], m[8]]);
        let focal_px = match hfov_deg {
            Some(fov) if fov.is_finite() && fov > 1.0 && fov < 179.0 => {
                w / 2.0 / (fov.to_radians() / 2.0).tan()
            }
            Some(fov) => return Err(format!("hfov_deg {fov} is not a lens's angle")),
            None => {
                // r1·r2 = 0 and |r1| = |r2|, linear in x = 1/f²: a x + c = 0 each.
                let a1 = h1[0] * h2[0] + h1[1] * h2[1];
                let c1 = h1[2] * h2[2];
                let a2 = h1[0] * h1[0] + h1[1] * h1[1] - h2[0] * h2[0] - h2[1] * h2[1];
                let c2 = h1[2] * h1[2] - h2[2] * h2[2];
                let x = -(a1 * c1 + a2 * c2) / (a1 * a1 + a2 * a2);
                if !(x.is_finite() && x > 0.0) {
                    return Err(
                        "the calibration does not fix the focal length (the wall seen square on): give hfov_deg"
                            .into(),
                    );
                }
                1.0 / x.sqrt()
            }
        };
        // K⁻¹ H = λ [r1 r2 t].
        let back = |c: [f64; 3]| [c[0] / focal_px, c[1] / focal_px, c[2]];
        let (b1, b2, b3) = (back(h1), back(h2), back(h3));
        let mut lambda = 2.0 / (dot(b1, b1).sqrt() + dot(b2, b2).sqrt());
        // The rectangle lies in front of the camera.
        if b3[2] * lambda < 0.0 {
            lambda = -lambda;
        }
        let r1 = unit(scaled(b1, lambda));
        // r2 made square to r1 (noise in the corners bends it a little).
        let r2 = scaled(b2, lambda);
        let r2 = unit([
            r2[0] - dot(r1, r2) * r1[0],
            r2[1] - dot(r1, r2) * r1[1],
            r2[2] - dot(r1, r2) * r1[2],
        ]);
        let r3 = cross(r1, r2);
        let t = scaled(b3, lambda);
        // Columns r1 r2 r3 take facade axes to camera axes; its rows are the camera's axes in
        // facade coordinates.
        let rotation = [
            [r1[0], r2[0], r3[0]],
            [r1[1], r2[1], r3[1]],
            [r1[2], r2[2], r3[2]],
        ];
        // Centre: -Rᵀ t, with Rᵀ's rows the facade axes in camera coordinates.
        let centre = [-dot(r1, t), -dot(r2, t), -dot(r3, t)];
        let camera = Self {
            focal_px,
            width: w,
            height: h,
            rotation,
            centre,
        };
        if camera.centre[2] <= 0.0 {
            return Err("the calibration puts the camera behind the wall".into());
        }
        Ok(camera)
    }

    /// Facade point `p` in the camera's axes: right, down, and forward (its depth), metres.
    fn in_camera(&self, p: [f64; 3]) -> [f64; 3] {
        let rel: [f64; 3] = std::array::from_fn(|k| p[k] - self.centre[k]);
        self.rotation.map(|row| dot(row, rel))
    }

    /// The pixel (top-left origin) of facade point `p`, if in front of the camera.
    pub fn project(&self, p: [f64; 3]) -> Option<(f64, f64)> {
        let [x, y, z] = self.in_camera(p);
        (z > 1e-6).then(|| {
            (
                self.width / 2.0 + self.focal_px * x / z,
                self.height / 2.0 + self.focal_px * y / z,
            )
        })
    }

    /// How [`FacadeCamera::project`]'s pixel moves with facade point `p`: the gradients of its
    /// x and of its y (pixels a metre), if `p` is in front of the camera.
    pub fn project_gradient(&self, p: [f64; 3]) -> Option<[[f64; 3]; 2]> {
        let [x, y, z] = self.in_camera(p);
        let [rx, ry, rz] = self.rotation;
        (z > 1e-6).then(|| {
            let s = self.focal_px / z;
            let (u, v) = (x / z, y / z);
            [
                std::array::from_fn(|i| s * (rx[i] - u * rz[i])),
                std::array::from_fn(|i| s * (ry[i] - v * rz[i])),
            ]
        })
    }

    /// How far facade point `p` is in front of the camera, along its axis (metres).
    pub fn depth(&self, p: [f64; 3]) -> f64 {
        self.in_camera(p)[2]
    }

    /// Where the ray through pixel `(x, y)` meets the plane `n` metres out from the wall, if in
    /// front of the camera.
    pub fn on_plane_n(&self, (x, y): (f64, f64), n: f64) -> Option<[f64; 3]> {
        let (cx, cy) = (
            (x - self.width / 2.0) / self.focal_px,
            (y - self.height / 2.0) / self.focal_px,
        );
        let [right, down, forward] = self.rotation;
        let d: [f64; 3] = std::array::from_fn(|k| cx * right[k] + cy * down[k] + forward[k]);
        let s = (n - self.centre[2]) / d[2];
        (s.is_finite() && s > 0.0).then(|| std::array::from_fn(|k| self.centre[k] + s * d[k]))
    }

    /// How far the camera looks up: the angle of its forward axis above the horizontal
    /// (degrees).
    pub fn tilt_up_deg(&self) -> f64 {
        let f = self.rotation[2];
        f[1].atan2((f[0] * f[0] + f[2] * f[2]).sqrt()).to_degrees()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A camera `d` m in front of the wall, `up` m above the rectangle's bottom, `aside` m
    /// along it, tilted `tilt` degrees up and turned `yaw` degrees along the wall.
    fn camera(d: f64, up: f64, aside: f64, tilt: f64, yaw: f64, f: f64) -> FacadeCamera {
        let (st, ct) = tilt.to_radians().sin_cos();
        let (sy, cy) = yaw.to_radians().sin_cos();
        // Facing the wall: forward is -n; turned by yaw about the vertical, then tilted up.
        let forward = [sy * ct, st, -cy * ct];
        let right = unit(cross(forward, [0.0, 1.0, 0.0]));
        let down = cross(forward, right);
        FacadeCamera {
            focal_px: f,
            width: 1280.0,
            height: 720.0,
            rotation: [right, down, forward],
            centre: [aside, up, d],
        }
    }

    fn calibrate(c: &FacadeCamera) -> Facade {
        let (w, h) = (10.8, 12.0);
        let px = |p: [f64; 3]| {
            let (x, y) = c.project(p).expect("in front");
            (x / c.width, y / c.height)
        };
        Facade::new(
            [
                px([0.0, 0.0, 0.0]),
                px([w, 0.0, 0.0]),
                px([w, h, 0.0]),
                px([0.0, h, 0.0]),
            ],
            w,
            h,
            3.0,
            2,
            3,
        )
        .expect("a calibration")
    }

    #[test]
    fn a_camera_looking_up_at_the_wall_is_found_from_its_calibration_alone() {
        for (d, up, aside, tilt, yaw, f) in [
            (7.0, -1.5, 5.4, 40.0, 0.0, 600.0),
            (12.0, -4.5, 2.0, 30.0, 12.0, 900.0),
            (35.0, -3.0, 5.0, 45.0, -5.0, 914.0),
        ] {
            let truth = camera(d, up, aside, tilt, yaw, f);
            let got =
                FacadeCamera::recover(&calibrate(&truth), (1280, 720), None).expect("recovered");
            assert!((got.focal_px - f).abs() / f < 1e-6, "{got:?}");
            for k in 0..3 {
                assert!(
                    (got.centre[k] - truth.centre[k]).abs() < 1e-6,
                    "{got:?} {truth:?}"
                );
            }
            assert!(
                (got.tilt_up_deg() - tilt).abs() < 1e-6,
                "{}",
                got.tilt_up_deg()
            );
            // A point 2 m in front of the wall projects where the true camera sees it.
            let p = [3.0, 8.0, 2.0];
            let (a, b) = (got.project(p).unwrap(), truth.project(p).unwrap());
            assert!((a.0 - b.0).abs() < 1e-6 && (a.1 - b.1).abs() < 1e-6);
        }
    }

    #[test]
    fn a_known_lens_is_taken_and_a_bad_one_refused() {
        let truth = camera(9.0, -2.0, 4.0, 35.0, 0.0, 640.0);
        let facade = calibrate(&truth);
        // 1280 px across at f = 640: 90°.
        let got = FacadeCamera::recover(&facade, (1280, 720), Some(90.0)).unwrap();
        assert!((got.focal_px - 640.0).abs() < 1e-9);
        assert!((got.centre[2] - 9.0).abs() < 1e-6, "{got:?}");
        assert!(FacadeCamera::recover(&facade, (1280, 720), Some(0.0)).is_err());
        assert!(FacadeCamera::recover(&facade, (1280, 720), Some(f64::NAN)).is_err());
    }
}
