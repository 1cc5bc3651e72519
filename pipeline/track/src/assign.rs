//! Optimal assignment (Hungarian / Kuhn–Munkres with potentials, O(n²m)).

/// Cost of a pair that must not be matched.
pub const FORBIDDEN: f64 = 1e6;

/// Minimum-cost assignment of rows to columns of a rectangular `cost` matrix. Returns, per row,
/// the assigned column (`None` when there are more rows than columns and this row got none).
/// Callers reject pairs whose cost is [`FORBIDDEN`].
pub fn hungarian(cost: &[Vec<f64>]) -> Vec<Option<usize>> {
    let n = cost.len();
    let m = cost.first().map_or(0, Vec::len);
    if n == 0 || m == 0 {
        return vec![None; n];
    }
    if n > m {
        // Solve the transpose so rows ≤ columns.
        let t: Vec<Vec<f64>> = (0..m)
            .map(|j| (0..n).map(|i| cost[i][j]).collect())
            .collect();
        let cols = hungarian(&t);
        let mut rows = vec![None; n];
        for (j, i) in cols.into_iter().enumerate() {
            if let Some(i) = i {
                rows[i] = Some(j);
            }
        }
        return rows;
    }
    // 1-based arrays as in the classic formulation; p[j] = row matched to column j.
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; m + 1];
    let mut p = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0usize;
        let mut minv = vec![f64::INFINITY; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0usize;
            for j in 1..=m {
                if !used[j] {
                    let cur = cost[i0 - 1][j - 1] - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut rows = vec![None; n];
    for j in 1..=m {
        if p[j] != 0 {
            rows[p[j] - 1] = Some(j - 1);
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn total(cost: &[Vec<f64>], a: &[Option<usize>]) -> f64 {
        a.iter()
            .enumerate()
            .filter_map(|(i, j)| j.map(|j| cost[i][j]))
            .sum()
    }

    /// Exhaustive minimum over all injective row → column maps (rows ≤ columns).
    fn brute(cost: &[Vec<f64>], row: usize, used: &mut Vec<bool>) -> f64 {
        if row == cost.len() {
            return 0.0;
        }
        let mut best = f64::INFINITY;
        for j in 0..used.len() {
            if !used[j] {
                used[j] = true;
                best = best.min(cost[row][j] + brute(cost, row + 1, used));
                used[j] = false;
            }
        }
        best
    }

    #[test]
    fn picks_the_global_optimum_not_the_greedy_one() {
        // Greedy takes (0,0)=1 and is then forced into (1,1)=10; optimum is 2 + 3.
        let cost = vec![vec![1.0, 2.0], vec![3.0, 10.0]];
        assert_eq!(hungarian(&cost), vec![Some(1), Some(0)]);
    }

    proptest! {
        #[test]
        fn matches_brute_force(n in 1usize..5, extra in 0usize..3, seed in proptest::collection::vec(0.0f64..1.0, 64)) {
            let m = n + extra;
            let cost: Vec<Vec<f64>> = (0..n).map(|i| (0..m).map(|j| seed[(i * m + j) % 64]).collect()).collect();
            let a = hungarian(&cost);
            let mut used = vec![false; m];
            prop_assert!((total(&cost, &a) - brute(&cost, 0, &mut used)).abs() < 1e-9);
            // Injective.
            let mut cols: Vec<usize> = a.iter().flatten().copied().collect();
            cols.sort();
            cols.dedup();
            prop_assert_eq!(cols.len(), n);
            // Transposed problem agrees on the optimum.
            let t: Vec<Vec<f64>> = (0..m).map(|j| (0..n).map(|i| cost[i][j]).collect()).collect();
            let at = hungarian(&t);
            prop_assert!((total(&t, &at) - total(&cost, &a)).abs() < 1e-9);
        }
    }
}
