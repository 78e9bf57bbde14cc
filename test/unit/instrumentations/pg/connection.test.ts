import { describe, expect, it } from 'vitest';
import { namespaceOf, searchPathSchema } from '../../../../instrumentations/pg/connection';

/**
 * db.namespace of a pg connection: `{database}|{schema}`, the schema read from the startup options
 * the way PostgreSQL reads them (the e2e test checks the server agrees on a real connection).
 */
describe('searchPathSchema', () => {
  it.each([
    ['-c search_path=app', 'app'],
    ['-c search_path=app,public', 'app'],
    ['-csearch_path=app', 'app'],
    ['--search_path=app', 'app'],
    ['--search-path=app', 'app'],
    ['-c SEARCH_PATH=App', 'App'],
    ['-c statement_timeout=5000 -c search_path=app', 'app'],
    ['-c search_path=first -c search_path=last', 'last'],
    ['-c search_path=app,\\ public', 'app'],
    ['-c search_path=\\ app\\ ,public', 'app'],
    ['-c search_path="Sales",public', 'Sales'],
    ['-c search_path="My\\ ""Q"""', 'My "Q"'],
  ])('%j -> %j', (options, schema) => {
    expect(searchPathSchema(options)).toBe(schema);
  });

  it.each([
    ['-c statement_timeout=5000'],
    [''],
    ['-c search_path='],
    ['-c search_path="$user",public'],
    ['-c search_path=$user'],
    ['-c'],
    ['search_path=app'],
  ])('finds no schema in %j', (options) => {
    expect(searchPathSchema(options)).toBeUndefined();
  });
});

describe('namespaceOf', () => {
  it('is the database alone without options, and database|schema with a search_path', () => {
    expect(namespaceOf('shop', undefined)).toBe('shop');
    expect(namespaceOf('shop', '')).toBe('shop');
    expect(namespaceOf('shop', '-c search_path=sales')).toBe('shop|sales');
    expect(namespaceOf('shop', '-c statement_timeout=1')).toBe('shop');
    expect(namespaceOf('shop', 42)).toBe('shop');
  });

  it('follows a change of database or options, and gives the same string while none changes', () => {
    const first = namespaceOf('shop', '-c search_path=sales');
    expect(namespaceOf('shop', '-c search_path=sales')).toBe(first);
    expect(namespaceOf('crm', '-c search_path=sales')).toBe('crm|sales');
    expect(namespaceOf('crm', '-c search_path=people')).toBe('crm|people');
    expect(namespaceOf('shop', '-c search_path=sales')).toBe('shop|sales');
  });
});
