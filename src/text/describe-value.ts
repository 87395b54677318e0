// Words for a value of the wrong kind and for the kind it should be, shared by the schema's
// messages and the port grammar's guards, so a value is described one way everywhere.
import { quoteText } from './quote-text.js';

/** A JSON Schema type name in words (`must be a whole number or a string`). */
export function describeSchemaType(type: string): string {
  switch (type) {
    case 'integer':
      return 'a whole number';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'object':
      return 'a mapping (key: value)';
    case 'array':
      return 'a list';
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'empty';
    default:
      return type;
  }
}

/** What a value is, for `must be X, not VALUE`: the one way every message describes a wrong value. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (an empty value)';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return `the string ${quoteText(value)}`;
    case 'number':
      return Number.isInteger(value) ? `the number ${value}` : `the number ${String(value)}`;
    case 'boolean':
      return String(value);
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}
