//! Resource quantities (`4`, `500m`, `8Gi`) read two ways: as the upstream chart's resource
//! check reads them, and as Kubernetes does. A minimum is met when either reading meets it:
//! skyctl must accept every value the chart accepts, and may accept a valid Kubernetes
//! quantity that the chart's simple parser gets wrong (`1Ti`, `4.5`).

use serde_json::Value;

use super::kind::helm_truthy;

/// What a quantity measures, which decides its unit and how the chart parses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// CPU, in cores.
    Cpu,
    /// Memory, in bytes.
    Memory,
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
const MIB: f64 = 1024.0 * 1024.0;

/// The amount `value` stands for (cores or bytes): the larger of the chart's reading and
/// Kubernetes' reading. A missing or unreadable value is 0.
pub fn amount(measure: Measure, value: Option<&Value>) -> f64 {
    let chart = chart_reading(measure, value);
    let kubernetes = value.and_then(kubernetes_reading);
    kubernetes.map_or(chart, |k| k.max(chart))
}

/// The chart's `skypilot.checkResources`: a missing or empty value is "0"; a CPU string ending
/// in `m` is its integer part / 1000, any other CPU string its integer value, a CPU number
/// itself; memory ending in `Gi` or `G` is that many GiB, in `Mi` or `M` that many / 1024 GiB,
/// anything else 0. "Integer" is Go's `strconv.Atoi`, which gives 0 for anything but an
/// optionally signed run of digits.
pub fn chart_reading(measure: Measure, value: Option<&Value>) -> f64 {
    let value = value.filter(|v| helm_truthy(v));
    match (measure, value) {
        (_, None) => 0.0,
        (Measure::Cpu, Some(Value::String(s))) => match s.strip_suffix('m') {
            Some(millis) => atoi(millis) / 1000.0,
            None => atoi(s),
        },
        (Measure::Cpu, Some(Value::Number(n))) => n.as_f64().unwrap_or(0.0),
        (Measure::Cpu, Some(Value::Bool(true))) => 1.0,
        (Measure::Memory, Some(Value::String(s))) => {
            let gib = if let Some(n) = s.strip_suffix("Gi") {
                atoi(n)
            } else if let Some(n) = s.strip_suffix("Mi") {
                atoi(n) / 1024.0
            } else if let Some(n) = s.strip_suffix('G') {
                // The chart counts a decimal gigabyte as a GiB.
                atoi(n)
            } else if let Some(n) = s.strip_suffix('M') {
                atoi(n) / 1024.0
            } else {
                0.0
            };
            gib * GIB
        }
        // The chart fails to render a memory number (its suffix test needs a string), and
        // reads anything else as 0.
        _ => 0.0,
    }
}

/// Kubernetes' reading of a quantity: a number in the measure's unit, or a string
/// `<sign><decimal><suffix>` with a binary (`Ki`…`Ei`), decimal (`n`, `u`, `m`, `k`, `M`…`E`)
/// or exponent (`e3`, `E-2`) suffix. `None` for anything Kubernetes would refuse.
pub fn kubernetes_reading(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_quantity(s),
        _ => None,
    }
}

fn parse_quantity(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let negative = text.starts_with('-');
    let digits_end = unsigned
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(digits_end);
    if !number.chars().any(|c| c.is_ascii_digit()) || number.matches('.').count() > 1 {
        return None;
    }
    let number: f64 = number.parse().ok()?;
    let amount = match suffix {
        "Ki" => number * 1024.0,
        "Mi" => number * MIB,
        "Gi" => number * GIB,
        "Ti" => number * GIB * 1024.0,
        "Pi" => number * GIB * MIB,
        "Ei" => number * GIB * GIB,
        decimal => {
            // Dividing by a power of ten rather than multiplying by its inverse keeps
            // `3999m` exactly 3.999.
            let power = decimal_power(decimal)?;
            if power < 0 {
                number / 10f64.powi(-power)
            } else {
                number * 10f64.powi(power)
            }
        }
    };
    // Kubernetes reads quantities exactly. As a float, zero times a huge power of ten is NaN
    // (`0e999`), which compares with nothing; and a power too large for a float is infinite.
    let amount = if number == 0.0 {
        0.0
    } else {
        amount.min(f64::MAX)
    };
    Some(if negative { -amount } else { amount })
}

/// The power of ten of a decimal SI suffix or an exponent (`e3`, `E-2`).
fn decimal_power(suffix: &str) -> Option<i32> {
    Some(match suffix {
        "" => 0,
        "n" => -9,
        "u" => -6,
        "m" => -3,
        "k" => 3,
        "M" => 6,
        "G" => 9,
        "T" => 12,
        "P" => 15,
        "E" => 18,
        exponent => {
            let power = exponent.strip_prefix(['e', 'E'])?;
            let digits = power.strip_prefix(['+', '-']).unwrap_or(power);
            if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            power.parse().ok()?
        }
    })
}

/// Go's `strconv.Atoi` as sprig's `atoi` uses it: an error reads as 0.
fn atoi(text: &str) -> f64 {
    text.parse::<i64>().map_or(0.0, |n| n as f64)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn cpu_as_the_chart_and_kubernetes_read_it() {
        // Table: the value, the chart's reading, Kubernetes' reading (cores).
        let cases = [
            (json!("4"), 4.0, Some(4.0)),
            (json!("2"), 2.0, Some(2.0)),
            (json!("4000m"), 4.0, Some(4.0)),
            (json!("3999m"), 3.999, Some(3.999)),
            (json!("+4"), 4.0, Some(4.0)),
            (json!("04"), 4.0, Some(4.0)),
            (json!(4), 4.0, Some(4.0)),
            (json!(0.5), 0.5, Some(0.5)),
            (json!(8.0), 8.0, Some(8.0)),
            // The chart's Atoi refuses what Kubernetes reads.
            (json!("4.5"), 0.0, Some(4.5)),
            (json!("4500.0m"), 0.0, Some(4.5)),
            (json!("1k"), 0.0, Some(1000.0)),
            (json!("4e0"), 0.0, Some(4.0)),
            // Kubernetes reads these exactly; a float must not make them NaN or infinite.
            (json!("0e999"), 0.0, Some(0.0)),
            (json!("0Ei"), 0.0, Some(0.0)),
            (json!("1e400"), 0.0, Some(f64::MAX)),
            (json!("1e-400"), 0.0, Some(0.0)),
            // Neither reads these.
            (json!(" 4"), 0.0, None),
            (json!("four"), 0.0, None),
            (json!("4 cores"), 0.0, None),
            (json!("4mm"), 0.0, None),
            (json!("NaN"), 0.0, None),
            (json!("inf"), 0.0, None),
            (json!("0x10"), 0.0, None),
            (json!("0e"), 0.0, None),
            (json!(""), 0.0, None),
            (json!("."), 0.0, None),
            (json!("1.2.3"), 0.0, None),
            (json!(null), 0.0, None),
            (json!(false), 0.0, None),
            (json!({"a": 1}), 0.0, None),
        ];
        for (value, chart, kubernetes) in cases {
            assert_eq!(
                chart_reading(Measure::Cpu, Some(&value)),
                chart,
                "chart {value}"
            );
            assert_eq!(kubernetes_reading(&value), kubernetes, "kubernetes {value}");
        }
        assert_eq!(chart_reading(Measure::Cpu, None), 0.0);
    }

    #[test]
    fn memory_as_the_chart_and_kubernetes_read_it() {
        // Table: the value, the chart's reading and Kubernetes' reading, in GiB.
        let cases = [
            (json!("8Gi"), 8.0, Some(8.0)),
            (json!("16Gi"), 16.0, Some(16.0)),
            (json!("8192Mi"), 8.0, Some(8.0)),
            (json!("4Gi"), 4.0, Some(4.0)),
            // The chart's quirk: G and M count as Gi and Mi.
            (json!("8G"), 8.0, Some(8e9 / GIB)),
            (json!("8192M"), 8.0, Some(8192e6 / GIB)),
            (json!("8000M"), 8000.0 / 1024.0, Some(8e9 / GIB)),
            // Valid quantities the chart reads as 0.
            (json!("1Ti"), 0.0, Some(1024.0)),
            (json!("8.5Gi"), 0.0, Some(8.5)),
            (json!("8589934592"), 0.0, Some(8.0)),
            (json!("8388608Ki"), 0.0, Some(8.0)),
            (json!(8589934592u64), 0.0, Some(8.0)),
            // Neither reads these.
            (json!("8 Gi"), 0.0, None),
            (json!("8GB"), 0.0, None),
            (json!("8gi"), 0.0, None),
            (json!("1ki"), 0.0, None),
            (json!("0e999"), 0.0, Some(0.0)),
            (json!("lots"), 0.0, None),
            (json!(null), 0.0, None),
        ];
        for (value, chart, kubernetes) in cases {
            assert_eq!(
                chart_reading(Measure::Memory, Some(&value)) / GIB,
                chart,
                "chart {value}"
            );
            assert_eq!(
                kubernetes_reading(&value).map(|b| b / GIB),
                kubernetes,
                "kubernetes {value}"
            );
        }
    }

    #[test]
    fn the_amount_is_the_larger_reading() {
        let cases = [
            (Measure::Memory, Some(json!("8G")), 8.0 * GIB),
            (Measure::Memory, Some(json!("1Ti")), 1024.0 * GIB),
            (Measure::Memory, Some(json!("nonsense")), 0.0),
            (Measure::Memory, None, 0.0),
            (Measure::Cpu, Some(json!("4.5")), 4.5),
            (Measure::Cpu, Some(json!("2")), 2.0),
            (Measure::Cpu, Some(json!(true)), 1.0),
        ];
        for (measure, value, expected) in cases {
            assert_eq!(amount(measure, value.as_ref()), expected, "{value:?}");
        }
    }
}
