// The per-process cache of valid tokens (pure): what it believes, and for how long.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrincipalCache } from '../../src/auth/domain/principal-cache';
import type { Principal } from '../../src/auth/domain/principal';

const principal = (n: number): Principal => ({ tokenId: `id-${n}`, role: 'REQUESTER', owner: `owner-${n}` });

describe('PrincipalCache', () => {
  it('believes a token for at most maxAgeMs, and never past its expiry', () => {
    let now = 1_000_000;
    const cache = new PrincipalCache(1000, 10, () => now);
    cache.set('a', principal(1), null);
    cache.set('b', principal(2), new Date(now + 300));
    assert.deepEqual(cache.get('a'), principal(1));
    now += 299;
    assert.deepEqual(cache.get('b'), principal(2));
    now += 1;
    assert.equal(cache.get('b'), null, 'expired tokens are not believed, whatever their age');
    now += 699;
    assert.deepEqual(cache.get('a'), principal(1));
    now += 1;
    assert.equal(cache.get('a'), null, 'asks the database again after maxAgeMs');
    assert.equal(cache.size, 0);
  });

  it('forgets a changed token by its id, everything on clear, and the oldest beyond its size', () => {
    const cache = new PrincipalCache(60_000, 3);
    cache.set('a', principal(1), null);
    cache.set('b', principal(2), null);
    cache.forgetToken('id-1');
    assert.equal(cache.get('a'), null);
    assert.deepEqual(cache.get('b'), principal(2));
    cache.forgetToken('id-unknown');
    cache.set('c', principal(3), null);
    cache.set('d', principal(4), null);
    cache.set('e', principal(5), null);
    assert.equal(cache.size, 3);
    assert.equal(cache.get('b'), null, 'the oldest went first');
    cache.forgetToken('id-2'); // its hash is gone already: nothing else is touched
    assert.deepEqual(cache.get('c'), principal(3));
    // Stored again under the same id (a token is never re-hashed, but the cache must not keep two).
    cache.forgetToken('id-5');
    cache.set('c2', principal(3), null);
    assert.equal(cache.size, 2, 'one entry per token');
    assert.equal(cache.get('c'), null);
    cache.forgetToken('id-3');
    assert.equal(cache.get('c2'), null);
    cache.clear();
    assert.equal(cache.size, 0);
  });
});
