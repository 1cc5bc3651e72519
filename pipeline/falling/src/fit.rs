//! Least-squares polynomial fits (degree 1 or 2) with the parameters' covariance.

/// `y ≈ c[0] + c[1]·t + c[2]·t²` (degree 2) or `c[0] + c[1]·t` (degree 1, `c[2] = 0`).
#[derive(Clone, Debug, PartialEq)]
pub struct Poly {
    pub c: [f64; 3],
    /// Root mean square of the residuals.
    pub rms: f64,
    /// Covariance of the coefficients (σ² (AᵀA)⁻¹, σ² from the residuals).
    pub cov: [[f64; 3]; 3],
}

impl Poly {
    pub fn at(&self, t: f64) -> f64 {
        self.c[0] + self.c[1] * t + self.c[2] * t * t
    }

    pub fn slope(&self, t: f64) -> f64 {
        self.c[1] + 2.0 * self.c[2] * t
    }
}

/// Fits `ys` over `ts`; `None` with too few points or a degenerate time axis.
#[allow(clippy::needless_range_loop)] // matrix indices read best as indices
pub fn fit(ts: &[f64], ys: &[f64], degree: usize) -> Option<Poly> {
    let k = degree + 1;
    let n = ts.len();
    if !(1..=2).contains(&degree) || n != ys.len() || n < k {
        return None;
    }
    let mut ata = [[0.0f64; 3]; 3];
    let mut aty = [0.0f64; 3];
    for (&t, &y) in ts.iter().zip(ys) {
        let row = [1.0, t, t * t];
        for i in 0..k {
            aty[i] += row[i] * y;
            for j in 0..k {
                ata[i][j] += row[i] * row[j];
            }
        }
    }
    let inv = invert(&ata, k)?;
    let mut c = [0.0; 3];
    for i in 0..k {
        c[i] = (0..k).map(|j| inv[i][j] * aty[j]).sum();
    }
    let mut p = Poly {
        c,
        rms: 0.0,
        cov: [[0.0; 3]; 3],
    };
    let sse: f64 = ts
        .iter()
        .zip(ys)
        .map(|(&t, &y)| (y - p.at(t)).powi(2))
        .sum();
    p.rms = (sse / n as f64).sqrt();
    let sigma2 = if n > k { sse / (n - k) as f64 } else { 0.0 };
    for i in 0..k {
        for j in 0..k {
            p.cov[i][j] = sigma2 * inv[i][j];
        }
    }
    Some(p)
}

/// Inverse of the leading `k × k` block (k ≤ 3) by Gauss-Jordan.
#[allow(clippy::needless_range_loop)]
fn invert(m: &[[f64; 3]; 3], k: usize) -> Option<[[f64; 3]; 3]> {
    let mut a = [[0.0f64; 6]; 3];
    for i in 0..k {
        a[i][..k].copy_from_slice(&m[i][..k]);
        a[i][3 + i] = 1.0;
    }
    let scale = (0..k)
        .map(|i| m[i][i].abs())
        .fold(0.0, f64::max)
        .max(1e-300);
    for col in 0..k {
        let pivot = (col..k).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 * scale {
            return None;
        }
        a.swap(col, pivot);
        let d = a[col][col];
        for v in &mut a[col] {
            *v /= d;
        }
        for row in 0..k {
            if row != col {
                let f = a[row][col];
                let pivot_row = a[col];
                for (v, p) in a[row].iter_mut().zip(pivot_row) {
                    *v -= f * p;
                }
            }
        }
    }
    let mut out = [[0.0; 3]; 3];
    for i in 0..k {
        out[i][..k].copy_from_slice(&a[i][3..3 + k]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_parabola_exactly() {
        let ts: Vec<f64> = (0..10).map(|i| f64::from(i) * 0.04).collect();
        let ys: Vec<f64> = ts.iter().map(|t| 30.0 + 1.5 * t - 4.9 * t * t).collect();
        let p = fit(&ts, &ys, 2).unwrap();
        for (got, want) in p.c.iter().zip([30.0, 1.5, -4.9]) {
            assert!((got - want).abs() < 1e-9, "{:?}", p.c);
        }
        assert!(p.rms < 1e-9);
        assert!((p.slope(0.0) - 1.5).abs() < 1e-9);
    }

    #[test]
    fn a_line_with_noise_has_its_residual_and_variance() {
        let ts: Vec<f64> = (0..20).map(f64::from).collect();
        let ys: Vec<f64> = ts
            .iter()
            .enumerate()
            .map(|(i, t)| 2.0 * t + if i % 2 == 0 { 0.5 } else { -0.5 })
            .collect();
        let p = fit(&ts, &ys, 1).unwrap();
        assert!((p.c[1] - 2.0).abs() < 0.01);
        assert!((p.rms - 0.5).abs() < 0.01);
        assert!(p.cov[1][1] > 0.0 && p.cov[2][2] == 0.0);
    }

    #[test]
    fn too_few_or_degenerate_points_give_nothing() {
        assert!(fit(&[0.0, 1.0], &[1.0, 2.0], 2).is_none());
        assert!(fit(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0], 2).is_none());
        assert!(fit(&[0.0], &[1.0], 3).is_none());
    }
}
