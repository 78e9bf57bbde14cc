// Just enough MessagePack to read the trace payloads dd-trace sends its agent (/v0.4 and /v0.5),
// so that the benchmark counts their spans without a dependency. Ext values decode as null.

/** Decodes one MessagePack value from `buffer` (a Buffer). 64-bit integers lose precision. */
export function decodeMsgpack(buffer) {
  let pos = 0;
  const take = (length) => {
    const start = pos;
    pos += length;
    if (pos > buffer.length) throw new RangeError('truncated MessagePack');
    return start;
  };
  const string = (length) => buffer.toString('utf8', take(length), pos);
  const bytes = (length) => buffer.subarray(take(length), pos);
  const array = (length) => Array.from({ length }, read);
  const map = (length) => {
    const object = {};
    for (let i = 0; i < length; i++) {
      const key = read();
      object[key] = read();
    }
    return object;
  };
  const ext = (length) => (take(1 + length), null);

  function read() {
    const byte = buffer[take(1)];
    if (byte <= 0x7f) return byte;
    if (byte <= 0x8f) return map(byte & 0x0f);
    if (byte <= 0x9f) return array(byte & 0x0f);
    if (byte <= 0xbf) return string(byte & 0x1f);
    if (byte >= 0xe0) return byte - 0x100;
    switch (byte) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return bytes(buffer.readUInt8(take(1)));
      case 0xc5:
        return bytes(buffer.readUInt16BE(take(2)));
      case 0xc6:
        return bytes(buffer.readUInt32BE(take(4)));
      case 0xc7:
        return ext(buffer.readUInt8(take(1)));
      case 0xc8:
        return ext(buffer.readUInt16BE(take(2)));
      case 0xc9:
        return ext(buffer.readUInt32BE(take(4)));
      case 0xca:
        return buffer.readFloatBE(take(4));
      case 0xcb:
        return buffer.readDoubleBE(take(8));
      case 0xcc:
        return buffer.readUInt8(take(1));
      case 0xcd:
        return buffer.readUInt16BE(take(2));
      case 0xce:
        return buffer.readUInt32BE(take(4));
      case 0xcf:
        return Number(buffer.readBigUInt64BE(take(8)));
      case 0xd0:
        return buffer.readInt8(take(1));
      case 0xd1:
        return buffer.readInt16BE(take(2));
      case 0xd2:
        return buffer.readInt32BE(take(4));
      case 0xd3:
        return Number(buffer.readBigInt64BE(take(8)));
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        return ext(1 << (byte - 0xd4));
      case 0xd9:
        return string(buffer.readUInt8(take(1)));
      case 0xda:
        return string(buffer.readUInt16BE(take(2)));
      case 0xdb:
        return string(buffer.readUInt32BE(take(4)));
      case 0xdc:
        return array(buffer.readUInt16BE(take(2)));
      case 0xdd:
        return array(buffer.readUInt32BE(take(4)));
      case 0xde:
        return map(buffer.readUInt16BE(take(2)));
      case 0xdf:
        return map(buffer.readUInt32BE(take(4)));
      default:
        throw new RangeError(`unknown MessagePack byte 0x${byte.toString(16)} at ${pos - 1}`);
    }
  }
  return read();
}
