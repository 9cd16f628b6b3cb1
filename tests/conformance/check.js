'use strict';
// check(value, shape, {strict}) -> a list of problems, each naming a JSON path ($.a[0].b).
// The shape language is described at the top of shapes.js.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// ISO 8601 date-time in UTC: Z or +00:00, seconds required, fraction optional.
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)$/;
const DECIMAL = /^(0|[1-9]\d*)$/;
// Unix milliseconds between 2001-09-09 and 5138-11-16: a value in seconds is far below.
const MS_MIN = 1e12;
const MS_MAX = 1e14;

function describe(value) {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return `${typeof value} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function shapeName(shape) {
  if (typeof shape === 'string') return PRIMITIVE_NAMES[shape] || shape;
  if (Array.isArray(shape)) {
    const [kind, arg] = shape;
    switch (kind) {
      case 'optional': return `${shapeName(arg)} (optional)`;
      case 'nullable': return `${shapeName(arg)} | null`;
      case 'array': return `${shapeName(arg)}[]`;
      case 'enum':
      case 'enum-number': return arg.map((v) => JSON.stringify(v)).join(' | ');
      case 'literal': return JSON.stringify(arg);
      case 'range': return `number in [${shape[1]}, ${shape[2]}]`;
      default: return kind;
    }
  }
  return 'object';
}

const PRIMITIVES = {
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  integer: (v) => Number.isInteger(v),
  boolean: (v) => typeof v === 'boolean',
  null: (v) => v === null,
  any: () => true,
  object: (v) => isObject(v),
  uuid: (v) => typeof v === 'string' && UUID.test(v),
  iso: (v) => typeof v === 'string' && ISO_UTC.test(v) && !Number.isNaN(Date.parse(v)),
  decimal: (v) => typeof v === 'string' && DECIMAL.test(v),
  ms: (v) => Number.isInteger(v) && v >= MS_MIN && v < MS_MAX,
  json: (v) => {
    if (typeof v !== 'string') return false;
    try {
      JSON.parse(v);
      return true;
    } catch {
      return false;
    }
  },
};

const PRIMITIVE_NAMES = {
  uuid: 'a UUID string',
  iso: 'an ISO 8601 UTC timestamp string',
  decimal: 'a decimal string',
  ms: 'Unix milliseconds (an integer)',
  json: 'a string holding JSON',
  integer: 'an integer',
  object: 'an object',
};

function walk(value, shape, options, path, problems) {
  if (typeof shape === 'string') {
    const test = PRIMITIVES[shape];
    if (!test) throw new Error(`unknown shape ${shape} at ${path}`);
    if (!test(value)) {
      problems.push(`${path}: expected ${PRIMITIVE_NAMES[shape] || shape}, got ${describe(value)}`);
    }
    return;
  }
  if (Array.isArray(shape)) {
    const [kind, arg] = shape;
    switch (kind) {
      case 'optional':
        // Presence is the enclosing object's business; here the value is present.
        walk(value, arg, options, path, problems);
        return;
      case 'nullable':
        if (value === null) return;
        if (typeof arg === 'string' || (Array.isArray(arg) && arg[0] !== 'array')) {
          // A scalar: one problem naming both alternatives.
          const inner = [];
          walk(value, arg, options, path, inner);
          if (inner.length) problems.push(`${path}: expected ${shapeName(shape)}, got ${describe(value)}`);
          return;
        }
        walk(value, arg, options, path, problems);
        return;
      case 'array':
        if (!Array.isArray(value)) {
          problems.push(`${path}: expected an array (${shapeName(shape)}), got ${describe(value)}`);
          return;
        }
        value.forEach((item, i) => walk(item, arg, options, `${path}[${i}]`, problems));
        return;
      case 'enum':
      case 'enum-number':
        if (!arg.some((allowed) => allowed === value)) {
          problems.push(`${path}: expected one of ${shapeName(shape)}, got ${describe(value)}`);
        }
        return;
      case 'literal':
        if (value !== arg) problems.push(`${path}: expected ${JSON.stringify(arg)}, got ${describe(value)}`);
        return;
      case 'range':
        if (typeof value !== 'number' || !(value >= shape[1] && value <= shape[2])) {
          problems.push(`${path}: expected ${shapeName(shape)}, got ${describe(value)}`);
        }
        return;
      default:
        throw new Error(`unknown shape kind ${kind} at ${path}`);
    }
  }
  // An object shape.
  if (!isObject(value)) {
    problems.push(`${path}: expected an object, got ${describe(value)}`);
    return;
  }
  for (const [field, fieldShape] of Object.entries(shape)) {
    const fieldPath = `${path}.${field}`;
    const isOptional = Array.isArray(fieldShape) && fieldShape[0] === 'optional';
    if (!Object.prototype.hasOwnProperty.call(value, field)) {
      if (!isOptional) problems.push(`${fieldPath}: missing (${shapeName(fieldShape)})`);
      continue;
    }
    walk(value[field], fieldShape, options, fieldPath, problems);
  }
  if (options.strict) {
    for (const field of Object.keys(value)) {
      if (!Object.prototype.hasOwnProperty.call(shape, field)) {
        problems.push(`${path}.${field}: not declared by the type (strict), got ${describe(value[field])}`);
      }
    }
  }
}

/**
 * The problems of `value` against `shape`, each starting with a JSON path; [] if it conforms.
 * With {strict: true} a field that the type does not declare is a problem too.
 */
function check(value, shape, options = {}) {
  const problems = [];
  walk(value, shape, { strict: Boolean(options.strict) }, options.path || '$', problems);
  return problems;
}

module.exports = { check, shapeName, PRIMITIVES };
