//! Exact money: decimals with at most `SCALE` fractional digits, as the contract allows
//! (`decimal_places=8`, `max_digits=24`), held as scaled integers.

use std::ops::{Add, Sub};

pub const SCALE: u32 = 8;
const ONE: i128 = 100_000_000;
/// Python's Decimal context keeps 28 significant digits; a sum beyond them would round
/// there and not here, so the native run gives up first.
const MAX_UNITS: i128 = 10_i128.pow(28);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dec {
    /// The value times 10^SCALE.
    pub units: i128,
}

impl Dec {
    pub const ZERO: Dec = Dec { units: 0 };

    /// A decimal in positional or scientific notation (`12.50`, `1E-8`), None when it is
    /// not a finite number with at most `SCALE` fractional digits.
    pub fn parse(text: &str) -> Option<Dec> {
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(at) => (&text[..at], text[at + 1..].parse::<i32>().ok()?),
            None => (text, 0),
        };
        let (negative, mantissa) = match mantissa.as_bytes().first()? {
            b'-' => (true, &mantissa[1..]),
            b'+' => (false, &mantissa[1..]),
            _ => (false, mantissa),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        if !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let digits = format!("{whole}{fraction}");
        let digits = digits.trim_start_matches('0');
        if digits.len() > 30 {
            return None;
        }
        let mut units: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        // value = units * 10^(exponent - len(fraction)); scaled: * 10^SCALE
        let shift = exponent - fraction.len() as i32 + SCALE as i32;
        if shift >= 0 {
            units = units.checked_mul(10_i128.checked_pow(shift as u32)?)?;
        } else {
            let divisor = 10_i128.checked_pow((-shift) as u32)?;
            if units % divisor != 0 {
                return None;
            }
            units /= divisor;
        }
        if units >= MAX_UNITS {
            return None;
        }
        Some(Dec {
            units: if negative { -units } else { units },
        })
    }

    /// Whether a sum stays within what Python's context computes exactly.
    pub fn exact(self) -> bool {
        self.units.abs() < MAX_UNITS
    }

    /// `float(Decimal)`: the double nearest the exact value.
    pub fn to_f64(self) -> f64 {
        // Both operands exact, so IEEE division rounds the exact quotient once.
        if self.units.unsigned_abs() < (1u128 << 53) {
            return self.units as f64 / ONE as f64;
        }
        self.plain().parse().expect("a decimal reads as a double")
    }

    /// The value in positional notation with every fractional digit kept (`12.50000000`).
    fn plain(self) -> String {
        let sign = if self.units < 0 { "-" } else { "" };
        let units = self.units.unsigned_abs();
        let one = ONE as u128;
        format!("{sign}{}.{:08}", units / one, units % one)
    }

    /// `format(value.normalize(), "f")`: no trailing zeros, no exponent (`0` for zero).
    pub fn normalized(self) -> String {
        let plain = self.plain();
        let trimmed = plain.trim_end_matches('0').trim_end_matches('.');
        if trimmed == "-0" || trimmed.is_empty() {
            "0".into()
        } else {
            trimmed.into()
        }
    }
}

impl Add for Dec {
    type Output = Dec;
    fn add(self, other: Dec) -> Dec {
        Dec {
            units: self.units + other.units,
        }
    }
}

impl Sub for Dec {
    type Output = Dec;
    fn sub(self, other: Dec) -> Dec {
        Dec {
            units: self.units - other.units,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_contract_allows() {
        assert_eq!(Dec::parse("12.50").unwrap().units, 1_250_000_000);
        assert_eq!(Dec::parse("1E-8").unwrap().units, 1);
        assert_eq!(Dec::parse("100").unwrap().normalized(), "100");
        assert_eq!(Dec::parse("1E+3").unwrap().normalized(), "1000");
        assert!(Dec::parse("1E-9").is_none());
        assert!(Dec::parse("abc").is_none());
        assert!(Dec::parse("").is_none());
        assert!(Dec::parse("1.2.3").is_none());
    }

    #[test]
    fn normalizes_as_python_does() {
        let total = Dec::parse("235.60").unwrap() + Dec::parse("0.40").unwrap();
        assert_eq!(total.normalized(), "236");
        assert_eq!(Dec::parse("7.10000000").unwrap().normalized(), "7.1");
        assert_eq!(Dec::ZERO.normalized(), "0");
        assert_eq!(Dec::parse("0.00000001").unwrap().normalized(), "0.00000001");
    }

    #[test]
    fn converts_to_the_nearest_double() {
        assert_eq!(Dec::parse("235.60").unwrap().to_f64(), 235.6);
        assert_eq!(Dec::parse("0.1").unwrap().to_f64(), 0.1);
        // the fast and the textual conversion agree wherever both apply
        for units in [
            1_i128,
            7,
            123_456_789,
            9_007_199_254_740_991,
            -42,
            33_333_333,
        ] {
            let value = Dec { units };
            let textual: f64 = value.plain().parse().unwrap();
            assert_eq!(value.to_f64(), textual, "{units}");
        }
        let big = Dec::parse("12345678901234567.12345678").unwrap();
        assert_eq!(big.to_f64(), 12345678901234567.12345678_f64);
    }
}
