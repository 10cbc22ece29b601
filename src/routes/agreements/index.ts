// Agreement versions from a party's side (src/API.md, "Agreements";
// protocol/SPEC.md §8.6): list the versions that involve the caller, accept one
// with a signature over its canonical terms, or reject it. A version every
// party accepted becomes `active` and supersedes the one before.
import { OpenAPIHono, type z } from '@hono/zod-openapi';
import { agreementDigest, partyOf, verifyAcceptance } from '../../../protocol/agreement.js';
import {
  acceptanceBody,
  AGREEMENT_VERSION_PATTERNS,
  agreementVersionParams,
  emptyBody,
  getAgreementVersions,
  postAcceptance,
  postRejection,
  type agreementVersionResponse,
} from '../../../wire/index.js';
import { versionJson } from '../../agreements.js';
import type { AppEnv, Services } from '../../context.js';
import { ProblemError } from '../../problem.js';
import { badSignature, verifies } from '../../signatures.js';
import type { AgencyRecord, AgreementVersionRecord } from '../../store/types.js';
import { parseJsonBody, parseWith } from '../../validation.js';
import { mount } from '../mount.js';

export function agreementRoutes(svc: Services): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();

  mount(app, getAgreementVersions, async (c) => {
    const me = c.get('caller').agency as AgencyRecord;
    const list = (await svc.store.listAgreementVersions()).filter((v) => partyOf(v.terms, me.id) && (v.status === 'proposed' || v.status === 'active'));
    return c.json({ agreements: list.map(versionJson) });
  });

  /** The version named by the path, for a party of it; 404 for anyone else, so a non-party learns nothing. */
  async function loadVersion(raw: { id: string | undefined; version: string | undefined }, me: string, action: string): Promise<AgreementVersionRecord> {
    const { id, version } = parseWith(agreementVersionParams, raw, 'path');
    const v = await svc.store.getAgreementVersion(id, version);
    if (!v || !partyOf(v.terms, me)) {
      throw new ProblemError('not-found', 'no such agreement version', { audit: { action, subject: `${id}/v${version}` } });
    }
    return v;
  }

  mount(
    app,
    postAcceptance,
    async (c) => {
      const me = c.get('caller').agency as AgencyRecord;
      const v = await loadVersion({ id: c.req.param('id'), version: c.req.param('version') }, me.id, 'agreement.accept_refused');
      const subject = v.agreementId;
      // The parties are named so that each sees the others' decisions in its audit trail (src/API.md, "Audit log").
      const about = { version: v.version, digest: agreementDigest(v.terms), parties: v.terms.parties.map((p) => p.agency) };
      const body = parseJsonBody(c.get('body'), acceptanceBody);
      if (!verifies(() => verifyAcceptance(v.terms, me.id, body.signature))) {
        throw badSignature('body.signature', 'the signature does not verify over these terms under the signing key they list for the caller', {
          action: 'agreement.accept_refused',
          subject,
          detail: about,
        });
      }
      const at = svc.now().toISOString();
      const r = await svc.store.acceptAgreementVersion(v.agreementId, v.version, { agency: me.id, signature: body.signature, acceptedAt: at });
      if (r === 'not-found') throw new ProblemError('not-found', 'no such agreement version', { audit: { action: 'agreement.accept_refused', subject } });
      if (r === 'conflict') {
        const now = await svc.store.getAgreementVersion(v.agreementId, v.version);
        const why = now && (now.status === 'rejected' || now.status === 'superseded') ? `this version is ${now.status}` : 'the caller accepted this version with another signature';
        throw new ProblemError('conflict', why, { audit: { action: 'agreement.accept_refused', subject, detail: about } });
      }
      if (r === 'created') await svc.audit({ actor: me.id, action: 'agreement.accepted', subject, detail: about });
      let stored = (await svc.store.getAgreementVersion(v.agreementId, v.version)) as AgreementVersionRecord;
      const accepted = new Set(stored.acceptances.map((a) => a.agency));
      if (stored.status === 'proposed' && stored.terms.parties.every((p) => accepted.has(p.agency))) {
        const { activated, superseded } = await svc.store.activateAgreementVersion(v.agreementId, v.version, at);
        if (activated) {
          await svc.audit({ actor: 'coordinator', action: 'agreement.activated', subject, detail: { ...about, superseded } });
        }
        stored = (await svc.store.getAgreementVersion(v.agreementId, v.version)) as AgreementVersionRecord;
      }
      return c.json({ agreement: versionJson(stored) } satisfies z.infer<typeof agreementVersionResponse>, 200);
    },
    AGREEMENT_VERSION_PATTERNS,
  );

  mount(
    app,
    postRejection,
    async (c) => {
      const me = c.get('caller').agency as AgencyRecord;
      const v = await loadVersion({ id: c.req.param('id'), version: c.req.param('version') }, me.id, 'agreement.reject_refused');
      parseJsonBody(c.get('body'), emptyBody);
      const subject = v.agreementId;
      // The parties are named so that each sees the others' decisions in its audit trail (src/API.md, "Audit log").
      const about = { version: v.version, digest: agreementDigest(v.terms), parties: v.terms.parties.map((p) => p.agency) };
      const r = await svc.store.rejectAgreementVersion(v.agreementId, v.version, { agency: me.id, rejectedAt: svc.now().toISOString() });
      if (r === 'not-found') throw new ProblemError('not-found', 'no such agreement version', { audit: { action: 'agreement.reject_refused', subject } });
      if (r === 'conflict') {
        const now = await svc.store.getAgreementVersion(v.agreementId, v.version);
        throw new ProblemError('conflict', `this version is ${now?.status ?? 'gone'}`, { audit: { action: 'agreement.reject_refused', subject, detail: about } });
      }
      if (r === 'rejected') await svc.audit({ actor: me.id, action: 'agreement.rejected', subject, detail: about });
      const stored = (await svc.store.getAgreementVersion(v.agreementId, v.version)) as AgreementVersionRecord;
      return c.json({ agreement: versionJson(stored) } satisfies z.infer<typeof agreementVersionResponse>, 200);
    },
    AGREEMENT_VERSION_PATTERNS,
  );

  return app;
}
