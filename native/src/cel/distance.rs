//! `distance_km` as CPython computes it.

use std::cell::Cell;

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

thread_local! {
    static LAST_HAVERSINE: Cell<Option<HaversineCall>> = const { Cell::new(None) };
}

/// `haversine`, remembering its last call: rules write the same distance twice in one
/// condition (`distance_km(...) > 500.0 && distance_km(...) > ...`). A pure function of
/// its arguments' bits, so the memo changes no result.
pub(super) fn remembered_haversine(lat1: f64, lat2: f64, dlon: f64) -> Result<f64, ErrorKind> {
    let key = [lat1.to_bits(), lat2.to_bits(), dlon.to_bits()];
    LAST_HAVERSINE.with(|last| {
        if let Some((known, result)) = last.get() {
            if known == key {
                return result;
            }
        }
        let result = haversine(lat1, lat2, dlon);
        last.set(Some((key, result)));
        result
    })
}

/// `expressions.distance_km` with float arguments: the great-circle distance in km, or
/// the error Python's math module raises (a ValueError for infinite coordinates).
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> Result<f64, ErrorKind> {
    haversine(lat1, lat2, lon2 - lon1)
}
