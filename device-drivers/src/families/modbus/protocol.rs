//! Modbus register maps, pure: how many registers a data type spans, how
//! registers decode into a number (word order; bytes within a word are
//! always big-endian on Modbus), which values are special, and how channels
//! group into as few read requests as possible.

use crate::config::{ChannelConfig, DataType, ModbusRegister, RegisterKind, WordOrder};
use crate::reading::{SpecialKind, Value};

/// The most registers one read request may ask for (Modbus spec, FC 3/4).
pub const MAX_REGISTERS_PER_READ: u16 = 125;
/// The most coils / discrete inputs one read request may ask for (FC 1/2).
pub const MAX_BITS_PER_READ: u16 = 2000;

/// Relative tolerance for configured sentinels. An f32 cannot hold most
/// decimal sentinels exactly, so f32 channels compare at f32 precision.
const SENTINEL_TOLERANCE: f64 = 1e-9;
const SENTINEL_TOLERANCE_F32: f64 = 1e-6;

/// Registers a value of `dt` occupies.
pub fn register_count(dt: DataType) -> u16 {
    match dt {
        DataType::U16 | DataType::I16 => 1,
        DataType::U32 | DataType::I32 | DataType::F32 => 2,
        DataType::F64 => 4,
    }
}

pub fn is_bit(kind: RegisterKind) -> bool {
    matches!(kind, RegisterKind::Coil | RegisterKind::Discrete)
}

/// Addresses one channel occupies: 1 for a coil / discrete input, else the
/// data type's register count.
pub fn span(reg: &ModbusRegister) -> u16 {
    if is_bit(reg.kind) { 1 } else { register_count(reg.data_type) }
}

pub fn max_per_read(kind: RegisterKind) -> u16 {
    if is_bit(kind) { MAX_BITS_PER_READ } else { MAX_REGISTERS_PER_READ }
}

pub fn kind_name(kind: RegisterKind) -> &'static str {
    match kind {
        RegisterKind::Holding => "holding register",
        RegisterKind::Input => "input register",
        RegisterKind::Coil => "coil",
        RegisterKind::Discrete => "discrete input",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("{dt:?} needs {expected} registers, got {got}")]
    Length { dt: DataType, expected: usize, got: usize },
}

/// Decodes the registers of one value (exactly `register_count(dt)` of them).
/// May return NaN or infinity for float types; see [`classify`].
pub fn decode(words: &[u16], dt: DataType, order: WordOrder) -> Result<f64, DecodeError> {
    let expected = usize::from(register_count(dt));
    let got = words.len();
    let err = DecodeError::Length { dt, expected, got };
    if got != expected {
        return Err(err);
    }
    // Most significant word first, whatever the wire order was.
    let word = |i: usize| -> u64 {
        let idx = match order {
            WordOrder::Big => i,
            WordOrder::Little => expected - 1 - i,
        };
        words.get(idx).copied().map_or(0, u64::from)
    };
    let mut bits: u64 = 0;
    for i in 0..expected {
        bits = (bits << 16) | word(i);
    }
    Ok(match dt {
        DataType::U16 => bits as u16 as f64,
        DataType::I16 => f64::from(bits as u16 as i16),
        DataType::U32 => f64::from(bits as u32),
        DataType::I32 => f64::from(bits as u32 as i32),
        DataType::F32 => f32_as_decimal(f32::from_bits(bits as u32)),
        DataType::F64 => f64::from_bits(bits),
    })
}

/// An f32 register pair carries a decimal the device meant (`3.855`), not the
/// binary neighbour `f64::from` widens it to (`3.8550000190734863`): take the
/// shortest decimal that round-trips the f32.
pub fn f32_as_decimal(x: f32) -> f64 {
    if x.is_finite() { x.to_string().parse().unwrap_or(f64::from(x)) } else { f64::from(x) }
}

/// Encodes a value the way [`decode`] reads it (for tests and simulators).
pub fn encode(value: f64, dt: DataType, order: WordOrder) -> Vec<u16> {
    let (bits, n): (u64, usize) = match dt {
        DataType::U16 => (u64::from(value as u16), 1),
        DataType::I16 => (u64::from(value as i16 as u16), 1),
        DataType::U32 => (u64::from(value as u32), 2),
        DataType::I32 => (u64::from(value as i32 as u32), 2),
        DataType::F32 => (u64::from((value as f32).to_bits()), 2),
        DataType::F64 => (value.to_bits(), 4),
    };
    let mut words: Vec<u16> = (0..n).rev().map(|i| (bits >> (16 * i)) as u16).collect();
    if order == WordOrder::Little {
        words.reverse();
    }
    words
}

/// Coils and discrete inputs read as 0 / 1.
pub fn decode_bit(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// A raw register value, or the special value it stands for: NaN and
/// infinity are `Invalid`, and so is any of the instrument's configured
/// `sentinels` (compared with the raw value, before scale and offset).
pub fn classify(raw: f64, dt: DataType, sentinels: &[f64]) -> Value {
    if !raw.is_finite() {
        return Value::Special(SpecialKind::Invalid);
    }
    let tol = if dt == DataType::F32 { SENTINEL_TOLERANCE_F32 } else { SENTINEL_TOLERANCE };
    let near = |s: f64| s.is_finite() && (raw - s).abs() <= tol * s.abs().max(f64::MIN_POSITIVE);
    if sentinels.iter().any(|s| near(*s)) {
        return Value::Special(SpecialKind::Invalid);
    }
    Value::Number(raw)
}

/// [`classify`], then the channel's scale and offset for numbers.
pub fn to_value(raw: f64, dt: DataType, sentinels: &[f64], ch: &ChannelConfig) -> Value {
    match classify(raw, dt, sentinels) {
        Value::Number(v) => Value::Number(ch.apply_scale(v)),
        special => special,
    }
}

/// One read request covering one or more channels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadBlock {
    pub kind: RegisterKind,
    pub start: u16,
    pub count: u16,
    /// Indices into the list given to [`plan_reads`].
    pub members: Vec<usize>,
}

/// A register map that runs past the 16-bit address space.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} {address} with {data_type:?} runs past address 65535", kind_name(*kind))]
pub struct PastAddressSpace {
    pub kind: RegisterKind,
    pub address: u16,
    pub data_type: DataType,
}

/// Checks that a channel's registers fit the 16-bit address space.
pub fn check_register(reg: &ModbusRegister) -> Result<(), PastAddressSpace> {
    let end = u32::from(reg.address) + u32::from(span(reg));
    if end > 0x1_0000 {
        return Err(PastAddressSpace { kind: reg.kind, address: reg.address, data_type: reg.data_type });
    }
    Ok(())
}

/// Groups channels into read requests: same kind, contiguous or overlapping
/// addresses (never reading a gap, which the device may not map), at most
/// 125 registers / 2000 bits each. Registers that do not fit the address
/// space are skipped here; [`check_register`] reports them.
pub fn plan_reads(regs: &[&ModbusRegister]) -> Vec<ReadBlock> {
    let kind_rank = |k: RegisterKind| match k {
        RegisterKind::Holding => 0,
        RegisterKind::Input => 1,
        RegisterKind::Coil => 2,
        RegisterKind::Discrete => 3,
    };
    let mut order: Vec<usize> = (0..regs.len()).filter(|i| check_register(regs[*i]).is_ok()).collect();
    order.sort_by_key(|i| (kind_rank(regs[*i].kind), regs[*i].address, std::cmp::Reverse(span(regs[*i]))));
    let mut blocks: Vec<ReadBlock> = Vec::new();
    for i in order {
        let r = regs[i];
        let (start, end) = (u32::from(r.address), u32::from(r.address) + u32::from(span(r)));
        if let Some(b) = blocks.last_mut() {
            let b_end = u32::from(b.start) + u32::from(b.count);
            let new_end = b_end.max(end);
            if b.kind == r.kind && start <= b_end && new_end - u32::from(b.start) <= u32::from(max_per_read(r.kind)) {
                b.count = (new_end - u32::from(b.start)) as u16;
                b.members.push(i);
                continue;
            }
        }
        blocks.push(ReadBlock { kind: r.kind, start: r.address, count: (end - start) as u16, members: vec![i] });
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TYPES: [DataType; 6] =
        [DataType::U16, DataType::I16, DataType::U32, DataType::I32, DataType::F32, DataType::F64];

    fn reg(address: u16, kind: RegisterKind, data_type: DataType) -> ModbusRegister {
        ModbusRegister { address, kind, data_type, word_order: WordOrder::Big }
    }

    #[test]
    fn f32_registers_read_as_the_decimal_the_device_meant() {
        assert_eq!(f32_as_decimal(3.855), 3.855);
        assert_eq!(decode(&encode(23.8, DataType::F32, WordOrder::Big), DataType::F32, WordOrder::Big).unwrap(), 23.8);
        assert!(f32_as_decimal(f32::NAN).is_nan());
    }

    #[test]
    fn decodes_every_type_and_word_order() {
        use DataType::*;
        use WordOrder::*;
        let cases: &[(&[u16], DataType, WordOrder, f64)] = &[
            (&[0xFFFF], U16, Big, 65535.0),
            (&[0xFFFF], I16, Big, -1.0),
            (&[0x8000], I16, Little, -32768.0),
            (&[0x0001, 0x0002], U32, Big, 65538.0),
            (&[0x0002, 0x0001], U32, Little, 65538.0),
            (&[0xFFFF, 0xFFFE], I32, Big, -2.0),
            (&[0xFFFE, 0xFFFF], I32, Little, -2.0),
            (&[0x4049, 0x0FDB], F32, Big, f32_as_decimal(std::f32::consts::PI)),
            (&[0x0FDB, 0x4049], F32, Little, f32_as_decimal(std::f32::consts::PI)),
            (&[0x4009, 0x21FB, 0x5444, 0x2D18], F64, Big, std::f64::consts::PI),
            (&[0x2D18, 0x5444, 0x21FB, 0x4009], F64, Little, std::f64::consts::PI),
            (&[0xC059, 0x0000], F32, Big, -3.390625),
        ];
        for (words, dt, order, want) in cases {
            assert_eq!(decode(words, *dt, *order).unwrap(), *want, "{words:?} {dt:?} {order:?}");
        }
    }

    #[test]
    fn wrong_length_is_an_error() {
        let e = decode(&[1], DataType::F32, WordOrder::Big).unwrap_err();
        assert_eq!(e.to_string(), "F32 needs 2 registers, got 1");
        assert!(decode(&[1, 2, 3], DataType::U16, WordOrder::Big).is_err());
    }

    #[test]
    fn encode_round_trips() {
        for dt in TYPES {
            for order in [WordOrder::Big, WordOrder::Little] {
                for v in [0.0, 1.0, 123.0, 30000.0] {
                    assert_eq!(decode(&encode(v, dt, order), dt, order).unwrap(), v, "{dt:?} {order:?}");
                }
            }
        }
        assert_eq!(encode(-2.5, DataType::F64, WordOrder::Big).len(), 4);
    }

    #[test]
    fn specials() {
        let nan = decode(&[0x7FC0, 0], DataType::F32, WordOrder::Big).unwrap();
        assert_eq!(classify(nan, DataType::F32, &[]), Value::Special(SpecialKind::Invalid));
        let inf = decode(&[0x7FF0, 0, 0, 0], DataType::F64, WordOrder::Big).unwrap();
        assert_eq!(classify(inf, DataType::F64, &[]), Value::Special(SpecialKind::Invalid));
        assert_eq!(classify(-32768.0, DataType::I16, &[-32768.0]), Value::Special(SpecialKind::Invalid));
        assert_eq!(classify(-32767.0, DataType::I16, &[-32768.0]), Value::Number(-32767.0));
        // 999.99E+9 as an f32 is only close to the decimal sentinel.
        let f = f64::from(999.99e9f32);
        assert_eq!(classify(f, DataType::F32, &[999.99e9]), Value::Special(SpecialKind::Invalid));
        assert_eq!(classify(f, DataType::F64, &[999.99e9]), Value::Number(f));
        let mut ch = ChannelConfig::new("x");
        ch.scale = 0.1;
        ch.offset = 1.0;
        assert_eq!(to_value(250.0, DataType::U16, &[], &ch), Value::Number(26.0));
        assert_eq!(decode_bit(true), 1.0);
    }

    #[test]
    fn plans_group_contiguous_registers_of_one_kind() {
        use RegisterKind::*;
        let regs = [
            reg(4, Holding, DataType::F32),
            reg(0, Holding, DataType::F32),
            reg(2, Holding, DataType::F32),
            reg(10, Holding, DataType::U16), // gap: own block
            reg(0, Input, DataType::U16),
            reg(1, Input, DataType::I16),
            reg(0, Coil, DataType::U16),
            reg(1, Coil, DataType::U16),
            reg(2, Holding, DataType::U16), // overlaps the f32 at 2
        ];
        let refs: Vec<&ModbusRegister> = regs.iter().collect();
        let blocks = plan_reads(&refs);
        assert_eq!(blocks.len(), 4, "{blocks:?}");
        assert_eq!((blocks[0].kind, blocks[0].start, blocks[0].count), (Holding, 0, 6));
        assert_eq!(blocks[0].members.len(), 4);
        assert_eq!((blocks[1].start, blocks[1].count), (10, 1));
        assert_eq!((blocks[2].kind, blocks[2].count), (Input, 2));
        assert_eq!((blocks[3].kind, blocks[3].count), (Coil, 2));
    }

    #[test]
    fn plans_split_at_125_registers() {
        let regs: Vec<ModbusRegister> = (0..100).map(|k| reg(2 * k, RegisterKind::Holding, DataType::F32)).collect();
        let refs: Vec<&ModbusRegister> = regs.iter().collect();
        let blocks = plan_reads(&refs);
        assert_eq!(blocks.iter().map(|b| b.count).collect::<Vec<_>>(), [124, 76]);
        assert!(blocks.iter().all(|b| b.count <= MAX_REGISTERS_PER_READ));
    }

    #[test]
    fn registers_past_the_address_space_are_reported() {
        let r = reg(65535, RegisterKind::Holding, DataType::F32);
        assert!(check_register(&r).unwrap_err().to_string().contains("65535"));
        assert!(plan_reads(&[&r]).is_empty());
        assert!(check_register(&reg(65535, RegisterKind::Coil, DataType::F64)).is_ok());
    }

    proptest! {
        #[test]
        fn decode_never_panics(words in proptest::collection::vec(any::<u16>(), 0..6), t in 0usize..6, little: bool) {
            let order = if little { WordOrder::Little } else { WordOrder::Big };
            let dt = TYPES[t];
            match decode(&words, dt, order) {
                Ok(v) => { let _ = classify(v, dt, &[1.0]); }
                Err(_) => prop_assert_ne!(words.len(), usize::from(register_count(dt))),
            }
        }

        #[test]
        fn plans_cover_every_channel_within_limits(
            specs in proptest::collection::vec((0u16..300, 0usize..4, 0usize..6), 0..60)
        ) {
            let kinds = [RegisterKind::Holding, RegisterKind::Input, RegisterKind::Coil, RegisterKind::Discrete];
            let regs: Vec<ModbusRegister> = specs.iter().map(|(a, k, t)| reg(*a, kinds[*k], TYPES[*t])).collect();
            let refs: Vec<&ModbusRegister> = regs.iter().collect();
            let blocks = plan_reads(&refs);
            let mut seen = vec![false; regs.len()];
            for b in &blocks {
                prop_assert!(b.count >= 1 && b.count <= max_per_read(b.kind));
                for m in &b.members {
                    let r = &regs[*m];
                    prop_assert_eq!(r.kind, b.kind);
                    prop_assert!(r.address >= b.start && u32::from(r.address) + u32::from(span(r)) <= u32::from(b.start) + u32::from(b.count));
                    seen[*m] = true;
                }
            }
            prop_assert!(seen.iter().all(|s| *s));
        }
    }
}
