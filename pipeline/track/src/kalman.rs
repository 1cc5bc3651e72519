//! Constant-velocity Kalman filter on a box's centre, width and height.
//!
//! With a diagonal process and measurement noise and a transition that only couples each
//! quantity with its own velocity, the 8-state filter of SORT/ByteTrack splits exactly into four
//! independent 2-state filters, which is what this is. Noise scales with the box size (as in
//! ByteTrack) and with the time step, since frames arrive at the sampled `detect_fps`.

use vigil_core::BBoxPx;

const STD_POSITION: f32 = 1.0 / 20.0;
const STD_VELOCITY: f32 = 1.0 / 160.0;
/// Time step the per-step noise above is stated for (ByteTrack's ~10–30 fps).
const REFERENCE_DT: f32 = 0.1;

#[derive(Clone, Copy, Debug)]
struct Axis {
    pos: f32,
    vel: f32,
    /// Covariance [[pp, pv], [pv, vv]].
    pp: f32,
    pv: f32,
    vv: f32,
}

impl Axis {
    fn new(pos: f32, scale: f32) -> Self {
        let sp = 2.0 * STD_POSITION * scale;
        let sv = 10.0 * STD_VELOCITY * scale / REFERENCE_DT;
        Axis {
            pos,
            vel: 0.0,
            pp: sp * sp,
            pv: 0.0,
            vv: sv * sv,
        }
    }

    fn predict(&mut self, dt: f32, scale: f32) {
        self.pos += self.vel * dt;
        // P = F P Fᵀ + Q, F = [[1, dt], [0, 1]].
        self.pp += dt * (2.0 * self.pv + dt * self.vv);
        self.pv += dt * self.vv;
        let steps = (dt / REFERENCE_DT).max(1e-3);
        let qp = STD_POSITION * scale;
        let qv = STD_VELOCITY * scale / REFERENCE_DT;
        self.pp += qp * qp * steps;
        self.vv += qv * qv * steps;
    }

    fn update(&mut self, z: f32, scale: f32) {
        let r = (STD_POSITION * scale).powi(2);
        let s = self.pp + r;
        let (kp, kv) = (self.pp / s, self.pv / s);
        let innovation = z - self.pos;
        self.pos += kp * innovation;
        self.vel += kv * innovation;
        let (pp, pv, vv) = (self.pp, self.pv, self.vv);
        self.pp = (1.0 - kp) * pp;
        self.pv = (1.0 - kp) * pv;
        self.vv = vv - kv * pv;
    }
}

/// Filter over (cx, cy, w, h).
#[derive(Clone, Copy, Debug)]
pub(crate) struct BoxFilter {
    axes: [Axis; 4],
}

impl BoxFilter {
    pub(crate) fn new(b: &BBoxPx) -> Self {
        let (cx, cy) = b.centre();
        let scale = b.height().max(1.0);
        BoxFilter {
            axes: [
                Axis::new(cx, scale),
                Axis::new(cy, scale),
                Axis::new(b.width(), scale),
                Axis::new(b.height(), scale),
            ],
        }
    }

    fn scale(&self) -> f32 {
        self.axes[3].pos.max(1.0)
    }

    pub(crate) fn predict(&mut self, dt: f32) {
        let scale = self.scale();
        for a in &mut self.axes {
            a.predict(dt, scale);
        }
        // A box cannot shrink below a pixel however its size velocity extrapolates.
        for a in &mut self.axes[2..] {
            a.pos = a.pos.max(1.0);
        }
    }

    pub(crate) fn update(&mut self, b: &BBoxPx) {
        let (cx, cy) = b.centre();
        let scale = self.scale();
        for (a, z) in self.axes.iter_mut().zip([cx, cy, b.width(), b.height()]) {
            a.update(z, scale);
        }
    }

    pub(crate) fn bbox(&self) -> BBoxPx {
        let [cx, cy, w, h] = self.axes.map(|a| a.pos);
        BBoxPx::new(cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_constant_velocity() {
        // A 40-px box moving 100 px/s to the right, observed at 10 fps.
        let mut f = BoxFilter::new(&BBoxPx::new(0.0, 0.0, 40.0, 40.0));
        for i in 1..=20 {
            f.predict(0.1);
            let x = 10.0 * i as f32;
            f.update(&BBoxPx::new(x, 0.0, x + 40.0, 40.0));
        }
        f.predict(0.1);
        let b = f.bbox();
        assert!(
            (b.x1 - 210.0).abs() < 3.0,
            "predicted x1 {} (want ≈ 210)",
            b.x1
        );
        assert!((b.width() - 40.0).abs() < 1.0);
    }
}
