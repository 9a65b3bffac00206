//! `distance_km` as CPython computes it.

use std::cell::Cell;

use super::ops::Num;
use super::ErrorKind;

pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// CPython's `math.radians`: `x * degToRad`, degToRad = Py_MATH_PI / 180.0.
fn radians(x: f64) -> f64 {
    const DEG_TO_RAD: f64 = std::f64::consts::PI / 180.0;
    x * DEG_TO_RAD
}

/// CPython's `math_1` checks: a NaN from a non-NaN, or an infinity from a finite
/// argument, is a ValueError (none of sin, cos, asin, sqrt can overflow).
fn math_1(x: f64, result: f64) -> Result<f64, ErrorKind> {
    if (result.is_nan() && !x.is_nan()) || (result.is_infinite() && x.is_finite()) {
        return Err(ErrorKind::Value);
    }
    Ok(result)
}

fn sin(x: f64) -> Result<f64, ErrorKind> {
    math_1(x, x.sin())
}

fn cos(x: f64) -> Result<f64, ErrorKind> {
    math_1(x, x.cos())
}

/// Python's `x ** 2` on a float: libm's `pow(x, 2.0)`, which is not always `x * x`
/// (the exponent is hidden from the optimiser, which would rewrite the call so).
fn square(x: f64) -> Result<f64, ErrorKind> {
    if x.is_nan() {
        return Ok(x);
    }
    if x == 0.0 {
        return Ok(0.0);
    }
    let result = x.powf(std::hint::black_box(2.0));
    if result.is_infinite() && x.is_finite() {
        return Err(ErrorKind::Overflow);
    }
    Ok(result)
}

fn haversine(lat1: f64, lat2: f64, dlon: f64) -> Result<f64, ErrorKind> {
    let (phi1, phi2) = (radians(lat1), radians(lat2));
    let (dphi, dlmb) = (phi2 - phi1, radians(dlon));
    let a = square(sin(dphi / 2.0)?)? + cos(phi1)? * cos(phi2)? * square(sin(dlmb / 2.0)?)?;
    let root = math_1(a, a.sqrt())?;
    let clamped = if root < 1.0 { root } else { 1.0 }; // min(1.0, root): NaN gives 1.0
    Ok(2.0 * EARTH_RADIUS_KM * math_1(clamped, clamped.asin())?)
}

/// A call's arguments (as bits) and its result.
type HaversineCall = ([u64; 3], Result<f64, ErrorKind>);

const REMEMBERED: usize = 256;

thread_local! {
    // On the heap: a loaded extension module has little static thread-local room.
    static HAVERSINES: Box<[Cell<Option<HaversineCall>>; REMEMBERED]> =
        Box::new([const { Cell::new(None) }; REMEMBERED]);
}

/// `haversine`, remembering recent calls by their arguments' bits (a pure function, so
/// the memo changes no result): places repeat (an account's home, a device's city), and
/// rules write the same distance twice in one condition (`distance_km(...) > 500.0 &&
/// distance_km(...) > ...`).
pub(super) fn remembered_haversine(lat1: f64, lat2: f64, dlon: f64) -> Result<f64, ErrorKind> {
    let key = [lat1.to_bits(), lat2.to_bits(), dlon.to_bits()];
    let mixed = (key[0] ^ key[1].rotate_left(21) ^ key[2].rotate_left(42))
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let index = (mixed >> 56) as usize % REMEMBERED;
    HAVERSINES.with(|remembered| {
        let slot = &remembered[index];
        if let Some((known, result)) = slot.get() {
            if known == key {
                return result;
            }
        }
        let result = haversine(lat1, lat2, dlon);
        slot.set(Some((key, result)));
        result
    })
}

/// `distance_km(lat1, lon1, lat2, lon2)` of CEL numbers: the longitudes' difference
/// exact when both are ints (Python's `int - int`), the rest in doubles.
pub(super) fn distance_of([lat1, lon1, lat2, lon2]: [Num; 4]) -> Result<f64, ErrorKind> {
    let dlon = match (lon2, lon1) {
        (Num::Int(a), Num::Int(b)) => (a as i128 - b as i128) as f64,
        _ => lon2.float() - lon1.float(),
    };
    remembered_haversine(lat1.float(), lat2.float(), dlon)
}

/// `expressions.distance_km` with float arguments: the great-circle distance in km, or
/// the error Python's math module raises (a ValueError for infinite coordinates).
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> Result<f64, ErrorKind> {
    haversine(lat1, lat2, lon2 - lon1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_distances_are_the_computed_ones() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let places: Vec<(f64, f64)> = (0..40)
            .map(|_| {
                let lat = (next() % 18_000) as f64 / 100.0 - 90.0;
                let lon = (next() % 36_000) as f64 / 100.0 - 180.0;
                (lat, lon)
            })
            .chain([(f64::INFINITY, 0.0), (f64::NAN, 1.0), (90.0, 180.0)])
            .collect();
        // Far more calls than places squared: every slot is reused and overwritten.
        for _ in 0..20_000 {
            let (lat1, lon1) = places[next() as usize % places.len()];
            let (lat2, lon2) = places[next() as usize % places.len()];
            let dlon = lon2 - lon1;
            let bits = |result: Result<f64, ErrorKind>| result.map(f64::to_bits);
            assert_eq!(
                bits(remembered_haversine(lat1, lat2, dlon)),
                bits(haversine(lat1, lat2, dlon)),
                "{lat1} {lat2} {dlon}"
            );
        }
    }
}
