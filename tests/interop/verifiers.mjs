// The verifiers the field uses, run against a live Trustseal server (tests/interop).
//
//   node verifiers.mjs <verifier> <base URL> <seal id>
//
// prints one JSON line: {"verified": bool, "error": "...", ...}. Each verifier reads only
// what a third party can fetch from the public routes; the only local files are the JSON-LD
// contexts (vendored, seals/conformance/contexts), since this machine has no internet.
import {readFileSync} from 'node:fs';
import {gunzipSync} from 'node:zlib';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

import * as jose from 'jose';
import {Resolver} from 'did-resolver';
import {verifyCredential as didJwtVerifyCredential} from 'did-jwt-vc';
import {verifyJWT} from 'did-jwt';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus as bslCheckStatus} from '@digitalbazaar/vc-bitstring-status-list';
import {contexts as credentialContexts} from '@digitalbazaar/credentials-context';

const HERE = dirname(fileURLToPath(import.meta.url));
const CONTEXTS = join(HERE, '..', '..', 'seals', 'conformance', 'contexts');
const [, , verifier, base, sealId] = process.argv;

async function fetchOk(url, accept) {
  const response = await fetch(url, accept ? {headers: {accept}} : {});
  if(!response.ok) {
    throw new Error(`GET ${url}: HTTP ${response.status}`);
  }
  return response;
}

// --- did:web, as web-did-resolver resolves it, but over the test server's plain HTTP ---
// did:web:<host>:<path…> → <host>/<path…>/did.json (did:web §3.2, percent-decoded port).
function didWebUrl(did) {
  const [host, ...path] = did.split(':').slice(2);
  return `${new URL(base).protocol}//${decodeURIComponent(host)}/${path.join('/')}/did.json`;
}

const didResolver = new Resolver({
  web: async did => {
    try {
      const response = await fetchOk(didWebUrl(did));
      const didDocument = await response.json();
      if(didDocument.id !== did) {
        throw new Error(`DID document id ${didDocument.id} is not ${did}`);
      }
      return {didDocument, didDocumentMetadata: {}, didResolutionMetadata: {
        contentType: response.headers.get('content-type')}};
    } catch(e) {
      return {didDocument: null, didDocumentMetadata: {},
        didResolutionMetadata: {error: 'notFound', message: e.message}};
    }
  }
});

// --- JSON-LD: vendored contexts, DID documents and their keys, everything else fetched ---
const localContexts = new Map(credentialContexts);
const index = JSON.parse(readFileSync(join(CONTEXTS, 'index.json'), 'utf8'));
for(const [url, file] of Object.entries(index)) {
  if(!localContexts.has(url)) {
    localContexts.set(url, JSON.parse(readFileSync(join(CONTEXTS, file), 'utf8')));
  }
}

async function documentLoader(url) {
  if(localContexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: localContexts.get(url)};
  }
  if(url.startsWith('did:web:')) {
    const [did, fragment] = url.split('#');
    const {didDocument, didResolutionMetadata} = await didResolver.resolve(did);
    if(!didDocument) {
      throw new Error(`Cannot resolve ${did}: ${didResolutionMetadata.message}`);
    }
    if(!fragment) {
      return {contextUrl: null, documentUrl: url, document: didDocument};
    }
    const method = didDocument.verificationMethod.find(m => m.id === url);
    if(!method) {
      throw new Error(`${url} is not in the DID document`);
    }
    return {contextUrl: null, documentUrl: url, document: {
      '@context': 'https://w3id.org/security/multikey/v1', ...method}};
  }
  if(url.startsWith(base)) {
    const response = await fetchOk(url);
    return {contextUrl: null, documentUrl: url, document: await response.json()};
  }
  throw new Error(`Refusing to load ${url}: not local, not the test server`);
}

function bitAt(encodedList, index) {
  // The independent decoder: multibase "u" + base64url, GZIP, bit 0 = the MSB of byte 0.
  if(!encodedList.startsWith('u')) {
    throw new Error('encodedList is not multibase base64url');
  }
  const bits = gunzipSync(Buffer.from(encodedList.slice(1), 'base64url'));
  return Boolean(bits[index >> 3] & (0x80 >> (index & 7)));
}

// Digital Bazaar's checker answers "checked" (verified) with each entry's bit (status); a
// verifier refuses a credential whose bit is set, as its README shows.
async function statusChecked(options) {
  const result = await bslCheckStatus(options);
  if(!result.verified) {
    return result;
  }
  const set = result.results.filter(r => r.status);
  return set.length ? {verified: false, error: new Error(
    set.map(r => `${r.credentialStatus.statusPurpose} bit set`).join(', '))} : result;
}

// The issuer's JWKS, next to its kid URL or its DID document.
function jwksFor(kid) {
  const url = kid.startsWith('did:web:') ?
    didWebUrl(kid.split('#')[0]).replace(/did\.json$/, 'jwks.json') :
    kid.replace(/\/keys\/[^/]+$/, '/jwks.json');
  return jose.createRemoteJWKSet(new URL(url));
}

async function credentialJwt() {
  return (await (await fetchOk(`${base}/s/${sealId}/credential.jwt`)).text()).trim();
}

// A PNG's iTXt chunk with the keyword openbadgecredential, read chunk by chunk.
function pngCredential(png) {
  for(let offset = 8; offset < png.length;) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if(type === 'iTXt') {
      const keywordEnd = data.indexOf(0);
      if(data.toString('latin1', 0, keywordEnd) === 'openbadgecredential') {
        if(data[keywordEnd + 1] !== 0) {
          throw new Error('the openbadgecredential chunk is compressed');
        }
        // Skip compression flag and method, then the language tag and translated keyword.
        let at = keywordEnd + 3;
        at = data.indexOf(0, at) + 1;
        at = data.indexOf(0, at) + 1;
        return data.toString('utf8', at);
      }
    }
    offset += 12 + length;
  }
  throw new Error('no iTXt openbadgecredential chunk');
}

// panva/jose on a compact JWT: the key by the JWKS and, separately, the bare JWK at the kid
// URL; then the revocation list (a JWT verified the same way) read by the independent decoder.
async function joseVerify(token) {
  const {kid} = jose.decodeProtectedHeader(token);
  const jwks = jwksFor(kid);
  const algorithms = ['ES256', 'RS256'];
  const {payload} = await jose.jwtVerify(token, jwks, {algorithms});
  if(!kid.startsWith('did:')) {
    // The kid URL answers the bare JWK (what the 1EdTech validator fetches).
    const bare = await (await fetchOk(kid)).json();
    await jose.jwtVerify(token, await jose.importJWK(bare, bare.alg), {algorithms});
  }
  const entry = payload.credentialStatus;
  const list = (await (await fetchOk(entry.statusListCredential)).text()).trim();
  const {payload: listPayload} = await jose.jwtVerify(list, jwks, {algorithms});
  const set = bitAt(listPayload.credentialSubject.encodedList,
    parseInt(entry.statusListIndex, 10));
  return set ? {verified: false, error: `${entry.statusPurpose} bit set`,
    issuer: payload.iss} : {verified: true, issuer: payload.iss};
}

// --- the verifiers ---
const verifiers = {
  async jose() {
    return joseVerify(await credentialJwt());
  },

  // A baked badge (OB 3.0 §5.3), read as a backpack reads it: the PNG's iTXt chunk with the
  // keyword openbadgecredential, or the verify attribute of the SVG's <openbadges:credential>;
  // the token then goes through the jose checks above.
  async 'baked-png'() {
    const png = Buffer.from(await (await fetchOk(`${base}/s/${sealId}/badge.png`)).arrayBuffer());
    return joseVerify(pngCredential(png));
  },

  async 'baked-svg'() {
    const svg = await (await fetchOk(`${base}/s/${sealId}/badge.svg`)).text();
    const match = svg.match(/<openbadges:credential\b[^>]*\bverify="([^"]+)"/);
    if(!match || !/xmlns:openbadges="https:\/\/purl\.imsglobal\.org\/ob\/v3p0"/.test(svg)) {
      throw new Error('no <openbadges:credential verify> in the OB 3.0 namespace');
    }
    return joseVerify(match[1]);
  },

  // Veramo's did-jwt-vc with a did:web resolver: the issuer must sign as its DID. Its format
  // policy knows only the VC 1.1 context, so it is turned off for this VC 2.0 credential
  // (the rest of the checks, signature, DID and time, still run).
  async 'did-jwt-vc'() {
    const token = await credentialJwt();
    const verified = await didJwtVerifyCredential(token, didResolver, {
      policies: {format: false}
    });
    const credential = verified.payload;
    // The list is checked with the same DID resolution (its issuer is the same DID).
    const status = await statusChecked({
      credential,
      verifyBitstringStatusListCredential: false,
      documentLoader: async url => {
        const list = (await (await fetchOk(url)).text()).trim();
        const {payload} = await verifyJWT(list, {resolver: didResolver});
        return {contextUrl: null, documentUrl: url, document: payload};
      }
    });
    return status.verified ? {verified: true, issuer: verified.issuer} :
      {verified: false, error: status.error.message, issuer: verified.issuer};
  },

  // Digital Bazaar's vc with the eddsa-rdfc-2022 cryptosuite, on /s/<id>/credential.json;
  // its status through @digitalbazaar/vc-bitstring-status-list, the list's own Data
  // Integrity proof verified too.
  async vc() {
    const response = await fetchOk(`${base}/s/${sealId}/credential.json`);
    const credential = await response.json();
    const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
    const result = await vc.verifyCredential({
      credential, suite, documentLoader,
      checkStatus: options => statusChecked({
        ...options, verifyBitstringStatusListCredential: true, suite, documentLoader
      })
    });
    const error = result.error || result.statusResult?.error;
    return result.verified ? {verified: true, issuer: credential.issuer.id,
      contentType: response.headers.get('content-type')} :
      {verified: false, error: error?.errors?.[0]?.message || error?.message ||
        JSON.stringify(result)};
  },

  // @digitalbazaar/vc-bitstring-status-list on the JWT credential, alone: the status list
  // fetched, verified with jose against the JWKS, and read at the credential's index.
  async bsl() {
    const token = await credentialJwt();
    const credential = jose.decodeJwt(token);
    const jwks = jwksFor(jose.decodeProtectedHeader(token).kid);
    const status = await statusChecked({
      credential,
      verifyBitstringStatusListCredential: false,
      documentLoader: async url => {
        const list = (await (await fetchOk(url)).text()).trim();
        const {payload} = await jose.jwtVerify(list, jwks, {algorithms: ['ES256', 'RS256']});
        return {contextUrl: null, documentUrl: url, document: payload};
      }
    });
    return status.verified ? {verified: true} :
      {verified: false, error: status.error.message};
  }
};

try {
  if(!verifiers[verifier]) {
    throw new Error(`unknown verifier ${verifier}`);
  }
  console.log(JSON.stringify(await verifiers[verifier]()));
} catch(e) {
  console.log(JSON.stringify({verified: false, error: `${e.name}: ${e.message}`}));
}
