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

/// Registers a value of `dt` occupies (a `string` spans its `count`; see
/// [`span`]).
pub fn register_count(dt: DataType) -> u16 {
    match dt {
        DataType::U16 | DataType::I16 | DataType::Bit | DataType::Bcd16 | DataType::String => 1,
        DataType::U32 | DataType::I32 | DataType::F32 | DataType::Bcd32 => 2,
        DataType::U64 | DataType::I64 | DataType::F64 => 4,
    }
}

pub fn is_bit(kind: RegisterKind) -> bool {
    matches!(kind, RegisterKind::Coil | RegisterKind::Discrete)
}

/// Addresses one channel occupies: 1 for a coil / discrete input, `count`
/// for a string, else the data type's register count.
pub fn span(reg: &ModbusRegister) -> u16 {
    if is_bit(reg.kind) {
        1
    } else if reg.data_type == DataType::String {
        reg.count.unwrap_or(1).max(1)
    } else {
        register_count(reg.data_type)
    }
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
    #[error("{raw:#06x} is not BCD (a nibble above 9)")]
    Bcd { raw: u64 },
    #[error("text {text:?} is not a number")]
    NotANumber { text: String },
    #[error("{dt:?} needs its register map (`bit` / `count`)")]
    NeedsRegister { dt: DataType },
}

/// The registers of one value, most significant first with each word's
/// bytes in big-endian order, whatever the device's byte and word order.
fn canonical(words: &[u16], order: WordOrder) -> Vec<u16> {
    let mut w: Vec<u16> = words.to_vec();
    if order.bytes_swapped() {
        w.iter_mut().for_each(|x| *x = x.swap_bytes());
    }
    if order.words_reversed() {
        w.reverse();
    }
    w
}

/// Decodes the registers of one numeric value (exactly `register_count(dt)`
/// of them). May return NaN or infinity for float types; see [`classify`].
/// `bit` and `string` need their register map: use [`decode_register`].
pub fn decode(words: &[u16], dt: DataType, order: WordOrder) -> Result<f64, DecodeError> {
    let expected = usize::from(register_count(dt));
    let got = words.len();
    if got != expected {
        return Err(DecodeError::Length { dt, expected, got });
    }
    let bits = canonical(words, order).iter().fold(0u64, |acc, w| (acc << 16) | u64::from(*w));
    Ok(match dt {
        DataType::U16 => bits as u16 as f64,
        DataType::I16 => f64::from(bits as u16 as i16),
        DataType::U32 => f64::from(bits as u32),
        DataType::I32 => f64::from(bits as u32 as i32),
        DataType::U64 => bits as f64,
        DataType::I64 => bits as i64 as f64,
        DataType::F32 => f32_as_decimal(f32::from_bits(bits as u32)),
        DataType::F64 => f64::from_bits(bits),
        DataType::Bcd16 | DataType::Bcd32 => bcd(bits, expected * 4)?,
        DataType::Bit | DataType::String => return Err(DecodeError::NeedsRegister { dt }),
    })
}

/// `digits` packed BCD nibbles, most significant first.
fn bcd(bits: u64, digits: usize) -> Result<f64, DecodeError> {
    let mut v: u64 = 0;
    for i in (0..digits).rev() {
        let nibble = (bits >> (4 * i)) & 0xF;
        if nibble > 9 {
            return Err(DecodeError::Bcd { raw: bits });
        }
        v = v * 10 + nibble;
    }
    Ok(v as f64)
}

/// Decodes one channel's registers by its register map: numbers as
/// [`decode`], one bit of a register, or a string's numeric value.
pub fn decode_register(words: &[u16], reg: &ModbusRegister) -> Result<f64, DecodeError> {
    match reg.data_type {
        DataType::Bit => {
            let [w] = words else {
                return Err(DecodeError::Length { dt: DataType::Bit, expected: 1, got: words.len() });
            };
            let bit = reg.bit.ok_or(DecodeError::NeedsRegister { dt: DataType::Bit })?;
            Ok(f64::from((w >> (bit & 15)) & 1))
        }
        DataType::String => {
            let expected = usize::from(span(reg));
            if words.len() != expected {
                return Err(DecodeError::Length { dt: DataType::String, expected, got: words.len() });
            }
            let text = decode_text(words, reg.word_order);
            text.parse::<f64>().map_err(|_| DecodeError::NotANumber { text })
        }
        dt => decode(words, dt, reg.word_order),
    }
}

/// A string register block as text: two ASCII characters per register,
/// trimmed of NULs and spaces; bytes outside printable ASCII are kept as
/// `\xNN` so that a message quoting the text stays readable.
pub fn decode_text(words: &[u16], order: WordOrder) -> String {
    let bytes: Vec<u8> =
        words.iter().flat_map(|w| if order.bytes_swapped() { w.to_le_bytes() } else { w.to_be_bytes() }).collect();
    let trimmed = bytes.iter().position(|b| !matches!(b, 0 | b' ')).map_or(&[][..], |start| {
        let end = bytes.iter().rposition(|b| !matches!(b, 0 | b' ')).map_or(start, |e| e + 1);
        &bytes[start..end]
    });
    trimmed
        .iter()
        .map(|b| if (0x20..0x7F).contains(b) { char::from(*b).to_string() } else { format!("\\x{b:02x}") })
        .collect()
}

/// An f32 register pair carries a decimal the device meant (`3.855`), not the
/// binary neighbour `f64::from` widens it to (`3.8550000190734863`): take the
/// shortest decimal that round-trips the f32.
pub fn f32_as_decimal(x: f32) -> f64 {
    if x.is_finite() { x.to_string().parse().unwrap_or(f64::from(x)) } else { f64::from(x) }
}

/// Encodes a numeric value the way [`decode`] reads it (for tests and
/// simulators). `bit` and `string` encode as a plain `u16`.
pub fn encode(value: f64, dt: DataType, order: WordOrder) -> Vec<u16> {
    let to_bcd = |v: f64, digits: u32| -> u64 {
        let mut n = v.abs().round() as u64 % 10u64.pow(digits);
        let mut out = 0u64;
        for i in 0..digits {
            out |= (n % 10) << (4 * i);
            n /= 10;
        }
        out
    };
    let (bits, n): (u64, usize) = match dt {
        DataType::U16 | DataType::Bit | DataType::String => (u64::from(value as u16), 1),
        DataType::I16 => (u64::from(value as i16 as u16), 1),
        DataType::U32 => (u64::from(value as u32), 2),
        DataType::I32 => (u64::from(value as i32 as u32), 2),
        DataType::U64 => (value as u64, 4),
        DataType::I64 => (value as i64 as u64, 4),
        DataType::F32 => (u64::from((value as f32).to_bits()), 2),
        DataType::F64 => (value.to_bits(), 4),
        DataType::Bcd16 => (to_bcd(value, 4), 1),
        DataType::Bcd32 => (to_bcd(value, 8), 2),
    };
    let mut words: Vec<u16> = (0..n).rev().map(|i| (bits >> (16 * i)) as u16).collect();
    if order.words_reversed() {
        words.reverse();
    }
    if order.bytes_swapped() {
        words.iter_mut().for_each(|x| *x = x.swap_bytes());
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

/// A register map entry a driver cannot read; the message names the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadRegister {
    #[error("{} {address} with {data_type:?} runs past address 65535", kind_name(*kind))]
    PastAddressSpace { kind: RegisterKind, address: u16, data_type: DataType },
    #[error("`modbus.bit` (0..15) is needed for data_type `bit`")]
    NoBit,
    #[error("`modbus.bit` must be 0..15, got {0}")]
    BitRange(u8),
    #[error("`modbus.count` (1..125 registers) is needed for data_type `string`")]
    NoCount,
    #[error("`modbus.count` must be 1..125, got {0}")]
    CountRange(u16),
    #[error("`modbus.{field}` only applies to data_type `{applies_to}`")]
    Stray { field: &'static str, applies_to: &'static str },
    #[error("data_type `{0}` needs a register table (`modbus.kind` holding or input), not a coil")]
    NotOnBits(&'static str),
}

/// Checks one channel's register map: the extras its data type needs
/// (`bit`, `count`), and that it fits the 16-bit address space.
pub fn check_register(reg: &ModbusRegister) -> Result<(), BadRegister> {
    match (reg.data_type, reg.bit, reg.count) {
        (DataType::Bit, None, _) => return Err(BadRegister::NoBit),
        (DataType::Bit, Some(b), _) if b > 15 => return Err(BadRegister::BitRange(b)),
        (DataType::String, _, None) => return Err(BadRegister::NoCount),
        (DataType::String, _, Some(c)) if !(1..=MAX_REGISTERS_PER_READ).contains(&c) => {
            return Err(BadRegister::CountRange(c));
        }
        _ => {}
    }
    if reg.bit.is_some() && reg.data_type != DataType::Bit {
        return Err(BadRegister::Stray { field: "bit", applies_to: "bit" });
    }
    if reg.count.is_some() && reg.data_type != DataType::String {
        return Err(BadRegister::Stray { field: "count", applies_to: "string" });
    }
    if is_bit(reg.kind) {
        match reg.data_type {
            DataType::Bit => return Err(BadRegister::NotOnBits("bit")),
            DataType::String => return Err(BadRegister::NotOnBits("string")),
            _ => {}
        }
    }
    let end = u32::from(reg.address) + u32::from(span(reg));
    if end > 0x1_0000 {
        return Err(BadRegister::PastAddressSpace { kind: reg.kind, address: reg.address, data_type: reg.data_type });
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

    const TYPES: [DataType; 10] = [
        DataType::U16,
        DataType::I16,
        DataType::U32,
        DataType::I32,
        DataType::U64,
        DataType::I64,
        DataType::F32,
        DataType::F64,
        DataType::Bcd16,
        DataType::Bcd32,
    ];
    const ORDERS: [WordOrder; 4] =
        [WordOrder::Big, WordOrder::Little, WordOrder::ByteSwapped, WordOrder::LittleByteSwapped];

    fn reg(address: u16, kind: RegisterKind, data_type: DataType) -> ModbusRegister {
        ModbusRegister::new(address, kind, data_type, WordOrder::Big)
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

    /// 0x11223344 and 0x1122334455667788 as the four byte orders put them on the wire.
    #[test]
    fn every_byte_and_word_order_for_32_and_64_bits() {
        use WordOrder::*;
        let w32: [(WordOrder, [u16; 2]); 4] = [
            (Big, [0x1122, 0x3344]),
            (ByteSwapped, [0x2211, 0x4433]),
            (Little, [0x3344, 0x1122]),
            (LittleByteSwapped, [0x4433, 0x2211]),
        ];
        for (order, words) in w32 {
            assert_eq!(decode(&words, DataType::U32, order).unwrap(), f64::from(0x1122_3344u32), "{order:?}");
            assert_eq!(encode(f64::from(0x1122_3344u32), DataType::U32, order), words, "{order:?}");
        }
        let w64: [(WordOrder, [u16; 4]); 4] = [
            (Big, [0x1122, 0x3344, 0x5566, 0x7788]),
            (ByteSwapped, [0x2211, 0x4433, 0x6655, 0x8877]),
            (Little, [0x7788, 0x5566, 0x3344, 0x1122]),
            (LittleByteSwapped, [0x8877, 0x6655, 0x4433, 0x2211]),
        ];
        for (order, words) in w64 {
            assert_eq!(decode(&words, DataType::U64, order).unwrap(), 0x1122_3344_5566_7788u64 as f64, "{order:?}");
        }
        // Negative 64-bit integers and f64 in a swapped order.
        assert_eq!(
            decode(&encode(-5e12, DataType::I64, LittleByteSwapped), DataType::I64, LittleByteSwapped).unwrap(),
            -5e12
        );
        assert_eq!(decode(&[0xFFFF; 4], DataType::I64, Big).unwrap(), -1.0);
        assert_eq!(decode(&encode(-2.75, DataType::F64, ByteSwapped), DataType::F64, ByteSwapped).unwrap(), -2.75);
        // 16-bit values honour the byte swap only.
        assert_eq!(decode(&[0x3412], DataType::U16, ByteSwapped).unwrap(), f64::from(0x1234u16));
        assert_eq!(decode(&[0x1234], DataType::U16, Little).unwrap(), f64::from(0x1234u16));
    }

    #[test]
    fn bcd_bits_and_strings() {
        assert_eq!(decode(&[0x1234], DataType::Bcd16, WordOrder::Big).unwrap(), 1234.0);
        assert_eq!(decode(&[0x0012, 0x3456], DataType::Bcd32, WordOrder::Big).unwrap(), 123456.0);
        assert_eq!(decode(&[0x3456, 0x0012], DataType::Bcd32, WordOrder::Little).unwrap(), 123456.0);
        assert_eq!(encode(9876.0, DataType::Bcd16, WordOrder::Big), [0x9876]);
        let e = decode(&[0x12A4], DataType::Bcd16, WordOrder::Big).unwrap_err();
        assert_eq!(e.to_string(), "0x12a4 is not BCD (a nibble above 9)");

        let mut bit = ModbusRegister::new(0, RegisterKind::Holding, DataType::Bit, WordOrder::Big);
        for (b, want) in [(0, 1.0), (1, 0.0), (2, 1.0), (15, 1.0), (14, 0.0)] {
            bit.bit = Some(b);
            assert_eq!(decode_register(&[0x8005], &bit).unwrap(), want, "bit {b}");
        }

        let mut text = ModbusRegister::new(0, RegisterKind::Holding, DataType::String, WordOrder::Big);
        text.count = Some(3);
        let words = |s: &[u8; 6]| {
            [u16::from_be_bytes([s[0], s[1]]), u16::from_be_bytes([s[2], s[3]]), u16::from_be_bytes([s[4], s[5]])]
        };
        assert_eq!(decode_register(&words(b" 23.5\0"), &text).unwrap(), 23.5);
        assert_eq!(decode_text(&words(b"AB\0\0  "), WordOrder::Big), "AB");
        assert_eq!(decode_text(&words(b"BA  \0\0"), WordOrder::ByteSwapped), "AB");
        assert_eq!(decode_text(&words(b"A\x01B   "), WordOrder::Big), "A\\x01B");
        let e = decode_register(&words(b"SN-12 "), &text).unwrap_err();
        assert_eq!(e.to_string(), "text \"SN-12\" is not a number");
        assert!(decode_register(&[0x3132], &text).is_err(), "wrong length");
    }

    #[test]
    fn register_maps_are_checked() {
        let base = |dt| ModbusRegister::new(10, RegisterKind::Holding, dt, WordOrder::Big);
        assert_eq!(check_register(&base(DataType::Bit)), Err(BadRegister::NoBit));
        assert_eq!(check_register(&base(DataType::String)), Err(BadRegister::NoCount));
        let mut r = base(DataType::Bit);
        r.bit = Some(16);
        assert!(check_register(&r).unwrap_err().to_string().contains("`modbus.bit` must be 0..15, got 16"));
        r.bit = Some(3);
        assert_eq!(check_register(&r), Ok(()));
        let mut r = base(DataType::String);
        r.count = Some(126);
        assert!(check_register(&r).unwrap_err().to_string().contains("`modbus.count`"));
        r.count = Some(8);
        assert_eq!(check_register(&r), Ok(()));
        assert_eq!(span(&r), 8);
        r.address = 65530;
        assert!(matches!(check_register(&r), Err(BadRegister::PastAddressSpace { .. })));
        let mut r = base(DataType::U16);
        r.bit = Some(1);
        assert!(check_register(&r).unwrap_err().to_string().contains("`modbus.bit` only applies"));
        let mut r = base(DataType::String);
        r.count = Some(2);
        r.kind = RegisterKind::Coil;
        assert_eq!(check_register(&r), Err(BadRegister::NotOnBits("string")));
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
            for order in ORDERS {
                for v in [0.0, 1.0, 123.0, 9000.0] {
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
        fn decode_never_panics(words in proptest::collection::vec(any::<u16>(), 0..6), t in 0usize..10, o in 0usize..4) {
            let (dt, order) = (TYPES[t], ORDERS[o]);
            let bcd = matches!(dt, DataType::Bcd16 | DataType::Bcd32);
            match decode(&words, dt, order) {
                Ok(v) => { let _ = classify(v, dt, &[1.0]); }
                Err(_) => prop_assert!(bcd || words.len() != usize::from(register_count(dt))),
            }
            let mut text = ModbusRegister::new(0, RegisterKind::Holding, DataType::String, order);
            text.count = Some(words.len().max(1) as u16);
            let _ = decode_register(&words, &text);
        }

        #[test]
        fn plans_cover_every_channel_within_limits(
            specs in proptest::collection::vec((0u16..300, 0usize..4, 0usize..10), 0..60)
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
