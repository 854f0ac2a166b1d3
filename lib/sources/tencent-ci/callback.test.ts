import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { createHttpEvent } from '../../../infra/local/http-event.ts';
import { TENCENT_CI_SCHEMA_FILE, tencentCiSchemaText } from '../../../infra/schema/tencent-ci-nodes.ts';
import { listedSamples, loadFixture } from '../../../infra/testing/fixtures.ts';
import { validSamples } from '../../../infra/testing/route-callbacks.ts';
import { useSourceHarness } from '../../../infra/testing/source-harness.ts';
import { decodeBody } from '../../decode/decode-body.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { isTerminal } from '../../events/status.ts';
import { toUtcRfc3339 } from '../../events/time.ts';
import { callbacks as tencentCi, toCiTree } from './callback.ts';
import { ciStatus } from './status.ts';

const RECEIVED = new Date('2026-11-22T10:00:00.000Z');
const harness = useSourceHarness(tencentCi, { now: () => RECEIVED });

const AnswerSchema = v.object({
  ok: v.optional(v.boolean()),
  id: v.optional(v.string()),
  error: v.optional(v.string()),
  issues: v.optional(v.array(v.string())),
});

/** Posts a body to /callbacks/tencent-ci and returns the answer and what reached the queue. */
async function post(body: string | Buffer, contentType = 'application/xml') {
  const { answer, ...rest } = await harness.post({ body, contentType, path: '/callbacks/tencent-ci' });
  return { ...rest, body: v.parse(AnswerSchema, answer) };
}

/** Posts a fixture and returns its one event (fails the test unless it was accepted). */
async function eventOf(name: string): Promise<CloudEvent> {
  const fixture = loadFixture('tencent-ci', name);
  const { status, events } = await post(fixture.body, fixture.contentType);
  expect(status).toBe(200);
  expect(events).toHaveLength(1);
  const [event] = events;
  if (!event) throw new Error('no event');
  return event;
}

/** The event's data without `raw`. */
function dataWithoutRaw(event: CloudEvent): Record<string, unknown> {
  const { raw: _raw, ...rest } = event.data;
  return rest;
}

interface Expected {
  readonly type: string;
  readonly subject: string;
  readonly time: string;
  readonly status: string;
  /** The fields the event lifts out of the callback (CosHeaders by their keys). */
  readonly lifted: Readonly<Record<string, unknown>>;
}

const expected =
  (type: string) =>
  (subject: string, time: string, status: string, lifted: Readonly<Record<string, unknown>>): Expected => ({
    type,
    subject,
    time,
    status,
    lifted,
  });
const job = expected('tencentci.job.finished');
const workflow = expected('tencentci.workflow.finished');
const moderation = expected('tencentci.moderation.result');
const unknown = expected('tencentci.event.unknown');

/** Every sample: its type, subject, time, status and the fields lifted from wherever CI put them. */
const EXPECTED: Record<string, Expected> = {
  'ci-animation-xml': job('j6a2b9c62f84611ecb8546d80f2baf5aa', '2024-04-02T07:29:48Z', 'succeeded', {
    tag: 'Animation',
    object: 'input/clip.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-concat-workflow-json': job('j07f6263adf8a11eebdf419856486c0ab', '2024-03-12T10:33:20Z', 'succeeded', {
    tag: 'Concat',
    object: 'input/part1.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: ['Content-Type', 'x-cos-request-id', 'EventName', 'Size'],
  }),
  'ci-concat-workflow-xml': job('j07f6263adf8a11eebdf419856486c0ab', '2024-03-12T10:33:20Z', 'succeeded', {
    tag: 'Concat',
    object: 'input/part1.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: ['Content-Type', 'x-cos-request-id', 'EventName', 'Size'],
  }),
  'ci-concat-xml': job('j07f6263adf8a11eebdf419856486c0ab', '2024-03-12T10:33:20Z', 'succeeded', {
    tag: 'Concat',
    object: 'input/part1.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-digitalwatermark-xml': job('ja8de3b46f86011ec9452c1c27f56aaaa', '2024-04-11T10:39:08Z', 'succeeded', {
    tag: 'DigitalWatermark',
    object: 'input/film.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-dna-xml': job('j5e6f7a8b9c0d11efa0b1525400ac4455', '2024-05-05T01:01:20Z', 'succeeded', {
    tag: 'DNA',
    object: 'input/suspect.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-sdrtohdr-xml': job('j1a2b3c4d5e6f11efa0b1525400ac0011', '2024-05-01T01:02:10Z', 'succeeded', {
    tag: 'SDRtoHDR',
    object: 'input/sunset.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-segmentvideobody-xml': job('j4d5e6f7a8b9c11efa0b1525400ac3344', '2024-05-04T01:00:48Z', 'succeeded', {
    tag: 'SegmentVideoBody',
    object: 'input/dance.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-videoenhance-xml': job('j3c4d5e6f7a8b11efa0b1525400ac2233', '2024-05-03T01:05:00Z', 'succeeded', {
    tag: 'VideoEnhance',
    object: 'input/archive.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-videoprocess-xml': job('j2b3c4d5e6f7a11efa0b1525400ac1122', '2024-05-02T01:01:30Z', 'succeeded', {
    tag: 'VideoProcess',
    object: 'input/dim.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-docprocess-xml-declaration-tabs': job('d89c4cf4adf8a11eeb1229f23e6c9963b', '2024-03-15T07:24:46Z', 'succeeded', {
    tag: 'DocProcess',
    object: '合同/2024/采购合同.docx',
    cosHeaders: [],
  }),
  'ci-extractdigitalwatermark-xml': job('j515a494af86111ecb8546d80f2baaaaa', '2024-04-11T10:42:54Z', 'succeeded', {
    tag: 'ExtractDigitalWatermark',
    object: 'output/film-wm.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-filecompress-xml': job('faab0c1d2e3f411eeb0a1525400ab2233', '2024-04-20T02:00:12Z', 'succeeded', {
    tag: 'FileCompress',
    cosHeaders: [],
  }),
  'ci-filehashcode-xml': job('fbbc1d2e3f4a511eeb0a1525400ab3344', '2024-04-20T03:00:03Z', 'succeeded', {
    tag: 'FileHashCode',
    object: 'zips/photos.zip',
    bucketId: 'files-1250000000',
    region: 'ap-guangzhou',
    cosHeaders: [],
  }),
  'ci-imageinspect-xml': job('cda071f3af9e011ed8f900133752daaaa', '2024-04-07T03:12:45Z', 'succeeded', {
    tag: 'ImageInspect',
    object: 'upload/avatar.png',
    bucketId: 'pics-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-imageocr-xml': job('c8e9f0a1b2c3d11eeb0a1525400ab1122', '2024-04-19T06:00:02Z', 'succeeded', {
    tag: 'ImageOCR',
    object: 'scan/receipt.jpg',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-legacy-job-xml': job('jd4f0e9a6d6e811eab1b6525400e9c0f5', '2020-08-05T08:04:32Z', 'succeeded', {
    tag: 'Transcode',
    object: 'legacy/input.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-beijing',
    cosHeaders: ['Content-Type'],
  }),
  'ci-legacy-workflowexecution-xml': workflow('id4ef4b4cd6e811eab1b6525400e9c0f5', '2020-08-05T08:04:09Z', 'failed', {
    object: 'legacy/input.mp4',
    bucketId: '',
    runId: 'id4ef4b4cd6e811eab1b6525400e9c0f5',
    cosHeaders: ['Content-Type'],
  }),
  'ci-mediainfo-xml': job('jb976c9e0f86111ec9452c1c27f56aaaa', '2024-04-14T10:45:15Z', 'succeeded', {
    tag: 'MediaInfo',
    object: 'input/demo.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-moderation-audio-detail-json': moderation('sa2f3a4b5c6d7e11eeb0a1525400ab8899', '2024-04-25T00:00:00Z', 'succeeded', {
    object: 'voice/msg-12.mp3',
    bucketId: 'voice-1250000000',
    region: 'ap-guangzhou',
    cosHeaders: [],
    verdict: 'normal',
  }),
  'ci-moderation-document-detail-json': moderation('sd4b5c6d7e8f9a11eeb0a1525400abaabb', '2024-04-27T01:45:00Z', 'succeeded', {
    object: 'docs/brochure.pdf',
    bucketId: 'docs-1250000000',
    region: 'ap-beijing',
    cosHeaders: [],
    verdict: 'sensitive',
  }),
  'ci-moderation-html-json': moderation('shc5d6e7f8a9b011eeb0a1525400abbbcc', '2026-11-22T10:00:00.000Z', 'succeeded', {
    bucketId: 'web-1250000000',
    region: 'ap-chongqing',
    url: 'https://www.example.com/news/1.html',
    cosHeaders: ['x-cos-meta-id'],
    verdict: 'normal',
  }),
  'ci-moderation-image-detail-json': moderation('si4d5e6f7a8b9c11eeb0a1525400ab6677', '2024-04-23T02:21:07Z', 'succeeded', {
    object: 'ugc/post-881.jpg',
    bucketId: 'ugc-1250000000',
    region: 'ap-guangzhou',
    cosHeaders: ['x-cos-meta-user', 'Content-Type'],
    verdict: 'sensitive',
  }),
  'ci-moderation-image-simple-failed-json': moderation('si7a8b9c0d1e2f11eeb0a1525400abeeff', '2026-11-22T10:00:00.000Z', 'failed', {
    url: 'https://ugc-1250000000.cos.ap-guangzhou.myqcloud.com/ugc/broken.jpg',
    cosHeaders: [],
    verdict: 'unknown',
  }),
  'ci-moderation-live-auditing-json': moderation('av5e6f7a8b9c0d11eeb0a1525400abccdd', '2024-04-28T12:00:00Z', 'running', {
    url: 'rtmp://live.example.com/app/room-9',
    cosHeaders: [],
    verdict: 'sensitive',
  }),
  'ci-moderation-simple-test-json': moderation('test_trace_id', '2026-11-22T10:00:00.000Z', 'succeeded', {
    url: 'test_url',
    cosHeaders: ['x-cos-meta-xx'],
    verdict: 'normal',
  }),
  'ci-moderation-text-detail-json': moderation('st3a4b5c6d7e8f11eeb0a1525400ab99aa', '2024-04-26T04:30:45Z', 'succeeded', {
    object: 'comments/c-555.txt',
    bucketId: 'comments-1250000000',
    region: 'ap-beijing',
    cosHeaders: [],
    verdict: 'sensitive',
  }),
  'ci-moderation-video-detail-json': moderation('av1e2f3a4b5c6d11eeb0a1525400ab7788', '2024-04-24T13:01:10Z', 'succeeded', {
    object: 'ugc/clip-77.mp4',
    bucketId: 'ugc-1250000000',
    region: 'ap-guangzhou',
    cosHeaders: ['x-cos-meta-id'],
    verdict: 'suspicious',
  }),
  'ci-moderation-video-simple-json': moderation('av6f7a8b9c0d1e11eeb0a1525400abddee', '2026-11-22T10:00:00.000Z', 'succeeded', {
    url: 'https://ugc-1250000000.cos.ap-guangzhou.myqcloud.com/ugc/clip-78.mp4',
    cosHeaders: ['x-cos-meta-user'],
    verdict: 'sensitive',
  }),
  'ci-noisereduction-xml': job('j035aca66f86211ec8a5a87e0161014aa', '2024-04-03T10:47:30Z', 'succeeded', {
    tag: 'NoiseReduction',
    object: 'input/meeting.mp3',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-picprocess-json': job('c93984788066911ed89ed352d4d9d2aaa', '2024-04-06T07:16:44Z', 'succeeded', {
    tag: 'PicProcess',
    object: 'input/deer.jpg',
    bucketId: 'pics-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-qualityestimate-xml': job('j3f4a5b6c7d8e11eeb0a1525400aaccdd', '2024-04-12T02:00:31Z', 'succeeded', {
    tag: 'QualityEstimate',
    object: 'input/vlog.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-segment-xml': job('j2e3f4a5b6c7d11eeb0a1525400aabbcc', '2024-04-10T04:00:20Z', 'succeeded', {
    tag: 'Segment',
    object: 'input/lesson.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-smartcover-xml': job('j8c1d2e3ff84611ecb8546d80f2baf5ab', '2024-04-02T08:00:11Z', 'succeeded', {
    tag: 'SmartCover',
    object: 'input/trip.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-snapshot-compact-xml': job('j9a8b7c6d5e4f11eea1b2525400aa33dd', '2024-03-20T01:00:05Z', 'succeeded', {
    tag: 'Snapshot',
    object: 'clips/a.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-guangzhou',
    cosHeaders: ['Content-Type'],
  }),
  'ci-soundhound-xml': job('j7d8e9f0a1b2c11eeb0a1525400ab0011', '2024-04-18T04:00:04Z', 'succeeded', {
    tag: 'SoundHound',
    object: 'clips/hum.mp3',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-speechrecognition-xml': job('s886c0a7c2a6611ed847a618901112aaa', '2024-04-04T02:25:46Z', 'succeeded', {
    tag: 'SpeechRecognition',
    object: 'audio/minnong.mp3',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-splitvideoparts-xml': job('j96ca39faebe411eda9b5525400aa99dd', '2024-04-09T08:04:41Z', 'succeeded', {
    tag: 'SplitVideoParts',
    object: 'input/talk.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-streamextract-xml': job('j4a5b6c7d8e9f11eeb0a1525400aaddee', '2024-04-13T00:30:09Z', 'succeeded', {
    tag: 'StreamExtract',
    object: 'input/show.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-superresolution-xml': job('j7d0eafdaf86c11ecbdf419856486caaa', '2024-04-15T12:02:34Z', 'succeeded', {
    tag: 'SuperResolution',
    object: 'input/old.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-transcode-failed-xml': job('j0f1e2d3c4b5a11eeb9c8525400bb44ee', '2024-03-21T16:00:03Z', 'failed', {
    tag: 'Transcode',
    object: 'uploads/broken & bad.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-shanghai',
    cosHeaders: [],
  }),
  'ci-translation-json-doc-trailing-comma': job('a1f0c2e6d8e3411eeb2a0525400aa11bb', '2024-03-11T02:02:21Z', 'succeeded', {
    tag: 'Translation',
    object: 'docs/en/manual.pdf',
    cosHeaders: [],
  }),
  'ci-translation-json': job('a1f0c2e6d8e3411eeb2a0525400aa11bb', '2024-03-11T02:02:21Z', 'succeeded', {
    tag: 'Translation',
    object: 'docs/en/manual.pdf',
    cosHeaders: [],
  }),
  'ci-translation-xml': job('a1f0c2e6d8e3411eeb2a0525400aa11bb', '2024-03-11T02:02:21Z', 'succeeded', {
    tag: 'Translation',
    object: 'docs/en/manual.pdf',
    cosHeaders: [],
  }),
  'ci-tts-workflow-json': job('j9a0b1c2d3e4f11ef8a1b525400aa77bb', '2024-04-05T12:10:07Z', 'succeeded', {
    tag: 'Tts',
    object: 'tts-in/notice.txt',
    cosHeaders: ['Content-Type', 'x-cos-meta-voice', 'EventName'],
  }),
  'ci-tts-xml': job('j707f4864f86811ecb90d0b03267ceaaa', '2024-04-05T11:33:24Z', 'succeeded', { tag: 'Tts', cosHeaders: [] }),
  'ci-unknown-eventname-xml': unknown('i2b3c4d5e6f7a11eea1b2525400cc55ff', '2024-03-23T00:00:00Z', 'running', {
    runId: 'i2b3c4d5e6f7a11eea1b2525400cc55ff',
  }),
  'ci-videomontage-json': job('j0d1e2f3a4b5c11eeb0a1525400ab4455', '2024-04-21T09:10:33Z', 'succeeded', {
    tag: 'VideoMontage',
    object: 'input/match.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-videotag-json': job('j1d2c3b4a5f6e11eeb0a1525400aa88cc', '2024-04-08T01:01:12Z', 'succeeded', {
    tag: 'VideoTag',
    object: 'input/street.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-videotargetrec-xml': job('j5b6c7d8e9f0a11eeb0a1525400aaeeff', '2024-04-16T01:10:40Z', 'succeeded', {
    tag: 'VideoTargetRec',
    object: 'input/gate.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-vocalscore-xml': job('j6c7d8e9f0a1b11eeb0a1525400aaff00', '2024-04-17T13:00:15Z', 'succeeded', {
    tag: 'VocalScore',
    object: 'karaoke/take1.mp3',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-voiceseparate-xml': job('j40644e92f8e311ecb90d0b03267ce0aa', '2024-04-03T02:12:32Z', 'succeeded', {
    tag: 'VoiceSeparate',
    object: 'input/song.mp3',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [],
  }),
  'ci-wordsgeneralize-json-response-wrapped': job('a3b2c1d0e5f6411eebf0a525400aa22cc', '2023-06-01T02:00:02Z', 'succeeded', {
    tag: 'WordsGeneralize',
    object: 'text/intro.txt',
    cosHeaders: [],
  }),
  'ci-workflowfinish-json': workflow('i166ee190dfa011eda8a5525400c540df', '2024-03-16T06:54:42Z', 'succeeded', {
    object: 'wk-test/game.mp4',
    bucketId: 'media-1250000000',
    runId: 'i166ee190dfa011eda8a5525400c540df',
    cosHeaders: ['Content-Type', 'x-cos-request-id'],
  }),
  'ci-workflowfinish-rootless-xml': workflow('i5f17a1fb400411ee88345254008e464b', '2023-08-21T09:25:10Z', 'succeeded', {
    object: 'car.mp4',
    bucketId: 'examplebucket-1250000000',
    runId: 'i5f17a1fb400411ee88345254008e464b',
    cosHeaders: ['Content-Type'],
  }),
  'ci-workflowfinish-running-xml': workflow('i7e8f9a0b1c2d11eeb0a1525400ab5566', '2024-04-22T01:15:02Z', 'running', {
    object: 'uploads/new.mp4',
    bucketId: 'media-1250000000',
    runId: 'i7e8f9a0b1c2d11eeb0a1525400ab5566',
    cosHeaders: ['Content-Type'],
  }),
  'ci-workflowfinish-single-json': workflow('i3c4d5e6f7a8b11eea1b2525400dd66aa', '2024-03-24T04:00:09Z', 'failed', {
    object: 'wk-test/one.mp4',
    runId: 'i3c4d5e6f7a8b11eea1b2525400dd66aa',
    cosHeaders: ['Content-Type'],
  }),
  'ci-workflowfinish-xml': workflow('i166ee190dfa011eda8a5525400c540df', '2024-03-16T06:54:42Z', 'succeeded', {
    object: 'wk-test/game.mp4',
    bucketId: 'media-1250000000',
    runId: 'i166ee190dfa011eda8a5525400c540df',
    cosHeaders: ['Content-Type', 'x-cos-request-id'],
  }),
  'min-asr-single-resultdetail-xml': job('s1', '2026-11-22T10:00:00.000Z', 'succeeded', { cosHeaders: [] }),
  'min-audit-simple-json': moderation('av1', '2026-11-22T10:00:00.000Z', 'succeeded', { cosHeaders: [], verdict: 'normal' }),
  'min-tts-operation-input-cosheaders-json': job('j1', '2026-11-22T10:00:00.000Z', 'succeeded', { tag: 'Tts', cosHeaders: ['k'] }),
};

/** The lifted fields of an event, CosHeaders by their keys, for comparing with {@link EXPECTED}. */
function liftedOf(event: CloudEvent, names: readonly string[]): Record<string, unknown> {
  const data: Record<string, unknown> = event.data;
  return Object.fromEntries(
    names.map((name) => {
      if (name === 'verdict') return [name, v.parse(v.object({ verdict: v.string() }), data.moderation).verdict];
      if (name !== 'cosHeaders') return [name, data[name]];
      return [name, v.parse(v.array(v.object({ key: v.string(), value: v.string() })), data.cosHeaders).map((h) => h.key)];
    }),
  );
}

/**
 * Every object, list and text of 16 characters or more in a value, each with how often it occurs.
 * For a callback, a CI time counts in UTC as well: the event carries times so.
 */
function parts(value: unknown, asCallback = false, counts = new Map<string, number>()): Map<string, number> {
  const count = (part: string) => counts.set(part, (counts.get(part) ?? 0) + 1);
  if (typeof value === 'string') {
    if (value.length >= 16) count(JSON.stringify(value));
    const time = asCallback ? toUtcRfc3339(value) : undefined;
    if (time !== undefined) count(JSON.stringify(time));
    return counts;
  }
  if (typeof value !== 'object' || value === null) return counts;
  const key = JSON.stringify(value);
  if (key !== '{}' && key !== '[]') count(key);
  for (const item of Object.values(value)) parts(item, asCallback, counts);
  return counts;
}

describe('tencent-ci samples (events/tencent-ci)', () => {
  const fixtures = listedSamples('tencent-ci');

  it('has an expectation for every sample', () => {
    expect(fixtures.map((f) => f.name).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(fixtures.map((f) => [f.name, f] as const))(
    '%s: 200, the right type, subject, time, status and lifted fields, and the body kept whole',
    async (name, fixture) => {
      const { status, body, events, messages } = await post(fixture.body, fixture.contentType);
      expect(status).toBe(200);
      expect(events).toHaveLength(1);
      const [event] = events;
      if (!event) throw new Error('no event');
      const want = EXPECTED[name];
      if (!want) throw new Error(`no expectation for ${name}`);
      expect(body).toEqual({ ok: true, id: event.id });
      expect(event).toMatchObject({ source: 'tencent-ci', type: want.type, subject: want.subject, time: want.time });
      expect(event.data.status).toBe(want.status);
      expect(liftedOf(event, Object.keys(want.lifted))).toEqual(want.lifted);
      expect(event.data.raw).toEqual({ contentType: fixture.contentType, body: fixture.body.toString('utf8') });
      expect(messages[0]?.attributes).toEqual({ source: 'tencent-ci', type: want.type, status: want.status });
    },
  );

  it.each(fixtures.map((f) => [f.name, f] as const))('%s: carries nothing the callback sent once twice', async (name, fixture) => {
    const event = await eventOf(name);
    const callback = parts(toCiTree(decodeBody(fixture.body.toString('utf8'), tencentCi.decoders).value), true);
    const copied = [...parts(dataWithoutRaw(event))].filter(([part, count]) => count > (callback.get(part) ?? 1));
    expect(copied).toEqual([]);
  });
});

/** What the handler makes of representative samples: the whole `data` but `raw`. */
const WHOLE: Record<string, unknown> = {
  'ci-concat-workflow-xml': {
    status: 'succeeded',
    terminal: true,
    sourceStatus: 'Success',
    labels: {},
    eventName: 'TaskFinish',
    legacyFormat: false,
    jobId: 'j07f6263adf8a11eebdf419856486c0ab',
    tag: 'Concat',
    code: 'Success',
    queueId: 'p2242ab62c7c94486915508540933a2c6',
    creationTime: '2024-03-12T10:33:07Z',
    startTime: '2024-03-12T10:33:08Z',
    endTime: '2024-03-12T10:33:20Z',
    object: 'input/part1.mp4',
    bucketId: 'media-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [
      { key: 'Content-Type', value: 'video/mp4' },
      { key: 'x-cos-request-id', value: 'NjVmMDAxYTJfOWIxZTJkMGJfMWE0Zl82YzNk' },
      { key: 'EventName', value: 'cos:ObjectCreated:Put' },
      { key: 'Size', value: '7309593' },
    ],
    output: { Bucket: 'media-1250000000', Object: 'output/concat.mp4', Region: 'ap-chongqing' },
    operation: {
      MediaInfo: {
        Format: {
          Bitrate: '830.482000',
          Duration: '70.413000',
          FormatLongName: 'QuickTime / MOV',
          FormatName: 'mov,mp4,m4a,3gp,3g2,mj2',
          NumProgram: '0',
          NumStream: '2',
          Size: '7309593',
          StartTime: '0.000000',
        },
        Stream: {
          Audio: [
            {
              Bitrate: '32.020000',
              Channel: '2',
              ChannelLayout: 'stereo',
              CodecName: 'aac',
              Duration: '70.412857',
              Index: '1',
              SampleRate: '44100',
            },
          ],
          Subtitle: '',
          Video: [
            {
              AvgFps: '14.990016',
              Bitrate: '803.112000',
              CodecName: 'h264',
              Dar: '4:3',
              Duration: '69.779778',
              Fps: '15.000000',
              Height: '960',
              Index: '0',
              Rotation: '0.000000',
              Width: '1280',
            },
          ],
        },
      },
      MediaResult: {
        OutputFile: {
          Bucket: 'media-1250000000',
          Md5Info: [{ Md5: '96322f8638d38480683e069e6b2ba1e9', ObjectName: 'output/concat.mp4' }],
          ObjectName: ['output/concat.mp4'],
          ObjectPrefix: '',
          Region: 'ap-chongqing',
        },
      },
      TemplateId: 't140325e8918ac423da53b7d78dbbab564',
      TemplateName: 'concat_tpl',
      UserData: 'concat job for order 42',
      JobLevel: '0',
    },
    workflow: {
      Name: 'Concat_1581665960537',
      RunId: 'i5b7e2f10df8a11eeb8e1525400c3d4e5',
      WorkflowId: 'w2c9a6b1e0f4d4b7c9a8e7d6c5b4a3f21',
      WorkflowName: 'concat-on-upload',
    },
  },
  'ci-filehashcode-xml': {
    status: 'succeeded',
    terminal: true,
    sourceStatus: 'Success',
    labels: {},
    eventName: 'TaskFinish',
    legacyFormat: false,
    jobId: 'fbbc1d2e3f4a511eeb0a1525400ab3344',
    tag: 'FileHashCode',
    code: 'Success',
    queueId: 'p4b5c6d7e8f9041a2b3c4d5e6f7a8b9c0',
    creationTime: '2024-04-20T03:00:00Z',
    startTime: '2024-04-20T03:00:01Z',
    endTime: '2024-04-20T03:00:03Z',
    object: 'zips/photos.zip',
    bucketId: 'files-1250000000',
    region: 'ap-guangzhou',
    cosHeaders: [],
    operation: {
      FileHashCodeConfig: { AddToHeader: 'false', Type: 'SHA256' },
      FileHashCodeResult: {
        Etag: '"4c1a9ef1bd8c2d1e9f3a5b6c7d8e9f00"',
        FileSize: '1048576',
        LastModified: '2024-04-20T02:00:12Z',
        SHA256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      },
      UserData: 'This is my FileHashCode job.',
    },
  },
  'ci-moderation-html-json': {
    status: 'succeeded',
    terminal: true,
    sourceStatus: 'Success',
    labels: {},
    eventName: 'ReviewHtml',
    legacyFormat: false,
    form: 'detail',
    jobId: 'shc5d6e7f8a9b011eeb0a1525400abbbcc',
    url: 'https://www.example.com/news/1.html',
    bucketId: 'web-1250000000',
    region: 'ap-chongqing',
    cosHeaders: [{ key: 'x-cos-meta-id', value: '666666' }],
    moderation: {
      result: 0,
      verdict: 'normal',
      label: 'Normal',
      forbidState: 0,
      categories: [
        { name: 'porn', hitFlag: 0, score: 0 },
        { name: 'ads', hitFlag: 0, score: 0 },
      ],
    },
    detail: {
      PageCount: '1',
      ImageResults: {
        Results: [
          {
            Url: 'https://www.example.com/img/1.jpg',
            Text: '',
            Label: 'Normal',
            Suggestion: '0',
            PornInfo: {
              HitFlag: '0',
              Score: '0',
              SubLabel: '',
              OcrResults: [
                {
                  Text: '',
                  Keywords: ['', ''],
                  Location: { X: '0', Y: '0', Width: '0', Height: '0', Rotate: '0' },
                },
              ],
            },
            AdsInfo: { HitFlag: '0', Score: '0', SubLabel: '' },
          },
        ],
      },
      TextResults: {
        Results: [
          {
            Text: '',
            Label: 'Normal',
            Suggestion: '0',
            PornInfo: { HitFlag: '0', Score: '0', Keywords: '' },
            AdsInfo: { HitFlag: '0', Score: '0', Keywords: '' },
          },
        ],
      },
    },
  },
  'ci-moderation-image-detail-json': {
    status: 'succeeded',
    terminal: true,
    sourceStatus: 'Success',
    labels: {},
    eventName: 'ReviewImage',
    legacyFormat: false,
    form: 'detail',
    jobId: 'si4d5e6f7a8b9c11eeb0a1525400ab6677',
    creationTime: '2024-04-23T02:21:07Z',
    object: 'ugc/post-881.jpg',
    dataId: 'post-881',
    bucketId: 'ugc-1250000000',
    region: 'ap-guangzhou',
    cosHeaders: [
      { key: 'x-cos-meta-user', value: 'u-1024' },
      { key: 'Content-Type', value: 'image/jpeg' },
    ],
    moderation: {
      result: 1,
      verdict: 'sensitive',
      label: 'Porn',
      subLabel: 'SexBehavior',
      category: 'Porn',
      score: 98,
      forbidState: 1,
      categories: [
        {
          name: 'porn',
          hitFlag: 1,
          score: 98,
          label: 'Porn',
          subLabel: 'SexBehavior',
          detail: {
            OcrResults: [
              {
                Text: '约吗',
                Keywords: ['约吗'],
                Location: { X: '12', Y: '30', Width: '80', Height: '24', Rotate: '0' },
              },
            ],
          },
        },
        { name: 'terrorism', hitFlag: 0, score: 0 },
        { name: 'politics', hitFlag: 0, score: 0 },
        { name: 'ads', hitFlag: 0, score: 3 },
      ],
    },
  },
  'ci-moderation-live-auditing-json': {
    status: 'running',
    terminal: false,
    sourceStatus: 'Auditing',
    labels: {},
    eventName: 'ReviewVideo',
    legacyFormat: false,
    form: 'detail',
    jobId: 'av5e6f7a8b9c0d11eeb0a1525400abccdd',
    creationTime: '2024-04-28T12:00:00Z',
    url: 'rtmp://live.example.com/app/room-9',
    dataId: 'room-9',
    cosHeaders: [],
    moderation: {
      result: 1,
      verdict: 'sensitive',
      label: 'Porn',
      categories: [{ name: 'porn', hitFlag: 1, score: 93, label: 'Porn', count: 1 }],
    },
    detail: {
      Type: 'live',
      Snapshot: [
        {
          Url: 'https://live-1250000000.cos.ap-shanghai.myqcloud.com/live/room-9/1714305660.jpg',
          SnapshotTime: '60000',
          Label: 'Porn',
          Result: '1',
          PornInfo: { HitFlag: '1', Score: '93', Label: 'Porn', SubLabel: 'Sexy' },
        },
      ],
      UserInfo: { TokenId: 'anchor-9', Nickname: 'room nine', Room: 'room-9' },
    },
  },
  'ci-moderation-simple-test-json': {
    status: 'succeeded',
    terminal: true,
    sourceStatus: '0',
    message: 'Test request when setting callback url',
    labels: {},
    eventName: 'ReviewText',
    legacyFormat: false,
    form: 'simple',
    jobId: 'test_trace_id',
    url: 'test_url',
    cosHeaders: [{ key: 'x-cos-meta-xx', value: 'xx' }],
    moderation: {
      result: 0,
      verdict: 'normal',
      forbidState: 0,
      categories: [{ name: 'porn', hitFlag: 0, label: '', count: 0 }],
    },
  },
  'ci-tts-workflow-json': {
    status: 'succeeded',
    terminal: true,
    sourceStatus: 'Success',
    labels: {},
    eventName: 'TaskFinish',
    legacyFormat: false,
    jobId: 'j9a0b1c2d3e4f11ef8a1b525400aa77bb',
    tag: 'Tts',
    code: 'Success',
    queueId: 'p2242ab62c7c94486915508540933a2c6',
    creationTime: '2024-04-05T12:10:02Z',
    startTime: '2024-04-05T12:10:03Z',
    endTime: '2024-04-05T12:10:07Z',
    object: 'tts-in/notice.txt',
    cosHeaders: [
      { key: 'Content-Type', value: 'text/plain' },
      { key: 'x-cos-meta-voice', value: 'female-1' },
      { key: 'EventName', value: 'cos:ObjectCreated:Put' },
    ],
    output: { Bucket: 'media-1250000000', Object: 'tts-out/notice.mp3', Region: 'ap-chongqing' },
    operation: {
      MediaResult: {
        OutputFile: {
          Bucket: 'media-1250000000',
          Md5Info: [{ Md5: '0c8b3d4e5f60718293a4b5c6d7e8f901', ObjectName: 'tts-out/notice.mp3' }],
          ObjectName: ['tts-out/notice.mp3'],
          Region: 'ap-chongqing',
        },
      },
      TtsConfig: { Input: 'https://media-1250000000.cos.ap-chongqing.myqcloud.com/tts-in/notice.txt', InputType: 'Url' },
      TemplateId: 't1f1ae1dfsdc9ds41dsb31632d457ds6s2a',
    },
    workflow: {
      Name: 'Tts_1712318400000',
      RunId: 'i8b9c0d1e2f3a11ef8a1b525400aa77bb',
      WorkflowId: 'w5f4e3d2c1b0a49788766554433221100',
      WorkflowName: 'tts-on-upload',
    },
  },
  'ci-unknown-eventname-xml': {
    status: 'running',
    terminal: false,
    sourceStatus: 'Running',
    labels: {},
    eventName: 'WorkflowStart',
    legacyFormat: false,
    runId: 'i2b3c4d5e6f7a11eea1b2525400cc55ff',
  },
  'ci-workflowfinish-rootless-xml': {
    status: 'succeeded',
    terminal: true,
    sourceStatus: 'Success',
    labels: {},
    steps: [
      {
        id: 'j9679e59e400411eebd82718e65e03ae1',
        status: 'succeeded',
        sourceStatus: 'Success',
        type: 'SmartCover',
        name: 'SmartCover_1659689887115',
        createTime: '2023-08-21T09:24:54Z',
        endTime: '2023-08-21T09:25:10Z',
        task: {
          ResultInfo: {
            ObjectCount: '1',
            ObjectInfo: [
              {
                ObjectName: '/car.mp4_i5f17a1fb400411ee88345254008e464b.jpg',
                ObjectUrl: 'https://examplebucket-1250000000.cos.ap-chongqing.myqcloud.com/car.mp4_i5f17a1fb400411ee88345254008e464b.jpg',
              },
            ],
          },
        },
      },
    ],
    eventName: 'WorkflowFinish',
    legacyFormat: false,
    runId: 'i5f17a1fb400411ee88345254008e464b',
    workflowId: 'w4699c83bde714bfd8d7f5dbd9b680f79',
    workflowName: 'test',
    object: 'car.mp4',
    bucketId: 'examplebucket-1250000000',
    createTime: '2023-08-21T09:23:21Z',
    cosHeaders: [{ key: 'Content-Type', value: 'video/mp4' }],
  },
  'ci-workflowfinish-running-xml': {
    status: 'running',
    terminal: false,
    sourceStatus: 'Running',
    labels: {},
    steps: [
      {
        id: 'j8f9a0b1c2d3e11eeb0a1525400ab5566',
        status: 'running',
        sourceStatus: 'Running',
        type: 'Transcode',
        name: 'Transcode_1713748502000',
        createTime: '2024-04-22T01:15:03Z',
        task: { TemplateId: 't01e57db1c2d154d2fb57aa5de9313a897', TemplateName: 'MP4-H264-HD' },
      },
    ],
    eventName: 'WorkflowFinish',
    legacyFormat: false,
    runId: 'i7e8f9a0b1c2d11eeb0a1525400ab5566',
    workflowId: 'w4699c83bde714bfd8d7f5dbd9b680aaa',
    workflowName: 'transcode-on-upload',
    object: 'uploads/new.mp4',
    bucketId: 'media-1250000000',
    createTime: '2024-04-22T01:15:02Z',
    cosHeaders: [{ key: 'Content-Type', value: 'video/mp4' }],
  },
  'min-asr-single-resultdetail-xml': {
    status: 'succeeded',
    terminal: true,
    sourceStatus: 'Success',
    labels: {},
    eventName: 'TaskFinish',
    legacyFormat: false,
    jobId: 's1',
    cosHeaders: [],
    operation: { SpeechRecognitionResult: { ResultDetail: [{ Words: [{ Word: 'a' }] }] } },
  },
  'min-audit-simple-json': {
    status: 'succeeded',
    terminal: true,
    sourceStatus: '0',
    labels: {},
    eventName: 'ReviewVideo',
    legacyFormat: false,
    form: 'simple',
    jobId: 'av1',
    cosHeaders: [],
    moderation: { result: 0, verdict: 'normal', categories: [] },
  },
  'min-tts-operation-input-cosheaders-json': {
    status: 'succeeded',
    terminal: true,
    sourceStatus: 'Success',
    labels: {},
    eventName: 'TaskFinish',
    legacyFormat: false,
    jobId: 'j1',
    tag: 'Tts',
    cosHeaders: [{ key: 'k', value: 'v' }],
  },
};

describe('tencent-ci events of representative samples', () => {
  it.each(Object.entries(WHOLE))('%s: the whole data, each value in one place', async (name, data) => {
    expect(dataWithoutRaw(await eventOf(name))).toEqual(data);
  });

  it('gives the XML and JSON forms of one callback the same data and id (JSON drops empty nodes)', async () => {
    const xml = await eventOf('ci-concat-workflow-xml');
    const json = await eventOf('ci-concat-workflow-json');
    expect(dataWithoutRaw(json)).toEqual({
      ...dataWithoutRaw(xml),
      operation: expect.objectContaining({ MediaResult: { OutputFile: expect.not.objectContaining({ ObjectPrefix: '' }) } }),
    });
    for (const [a, b] of [
      ['ci-workflowfinish-xml', 'ci-workflowfinish-json'],
      ['ci-translation-xml', 'ci-translation-json'],
      ['ci-translation-xml', 'ci-translation-json-doc-trailing-comma'],
    ] as const) {
      const [first, second] = [await eventOf(a), await eventOf(b)];
      expect(dataWithoutRaw(second), b).toEqual(dataWithoutRaw(first));
      expect(second.id, b).toBe(first.id);
    }
  });
});

describe('tencent-ci jobs', () => {
  it('lifts the input object, bucket, region and CosHeaders from Input, then Operation.Input, then Workflow', async () => {
    const { events } = await post(
      JSON.stringify({
        EventName: 'TaskFinish',
        JobsDetail: {
          JobId: 'j1',
          State: 'Success',
          Input: { Object: 'from-input.mp4', Lang: 'en' },
          Operation: { Input: { Object: 'op-input.txt', Region: 'ap-beijing', CosHeaders: { Key: 'k', Value: 'v' } }, TemplateId: 't1' },
          Workflow: { Name: 'n', BucketId: 'b-125', Region: 'ap-shanghai' },
        },
      }),
      'application/json',
    );
    expect(events[0]?.data).toMatchObject({
      object: 'from-input.mp4',
      region: 'ap-beijing',
      bucketId: 'b-125',
      cosHeaders: [{ key: 'k', value: 'v' }],
      input: { Lang: 'en' },
      operation: { Input: { Object: 'op-input.txt' }, TemplateId: 't1' },
      workflow: { Name: 'n', Region: 'ap-shanghai' },
    });
  });

  it('lifts a field only in the shape it takes, and leaves any other shape where CI put it', async () => {
    const { events } = await post(
      job1('<Input><Object><Key>a.mp4</Key></Object><Region>ap-beijing</Region></Input><Operation><Output>none</Output></Operation>'),
    );
    expect(events[0]?.data).toMatchObject({ region: 'ap-beijing', input: { Object: { Key: 'a.mp4' } }, operation: { Output: 'none' } });
    expect(events[0]?.data).not.toHaveProperty('object');
    expect(events[0]?.data).not.toHaveProperty('output');
  });

  it('keeps Code and the decoded Message of a failed job', async () => {
    const event = await eventOf('ci-transcode-failed-xml');
    expect(event.data).toMatchObject({
      status: 'failed',
      terminal: true,
      sourceStatus: 'Failed',
      code: 'InvalidInput',
      message: '输入文件解析失败: moov atom not found <code=1001>',
      object: 'uploads/broken & bad.mp4',
      operation: { WatermarkTemplateId: ['t1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'], UserData: '' },
    });
  });

  it('reads the legacy job form (no EventName, CosHeaders first, Workflow before QueueId)', async () => {
    const event = await eventOf('ci-legacy-job-xml');
    expect(event.data).toMatchObject({
      eventName: 'TaskFinish',
      legacyFormat: true,
      queueId: 'p09d709939fef48a0a5c247ef39d90cec',
      cosHeaders: [{ key: 'Content-Type', value: 'video/mp4' }],
      workflow: { RunId: 'id4ef4b4cd6e811eab1b6525400e9c0f5', WorkflowName: 'legacy-flow' },
    });
    expect(event.data).not.toHaveProperty('startTime');
    expect(event.data).not.toHaveProperty('input');
  });

  it('reads compact single-line XML, keeping 0xc64847 and 0012 as text, single nodes as lists', async () => {
    const event = await eventOf('ci-snapshot-compact-xml');
    expect(event.data).toMatchObject({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CI's own placeholder in an output name, kept as sent.
      output: { Object: 'snap/a-${Number}.jpg' },
      operation: { UserData: '0012', MediaInfo: { Stream: { Audio: [], Subtitle: '', Video: [{ CodecTag: '0xc64847', Index: '0' }] } } },
    });
    expect(event.data).not.toHaveProperty('message');
  });

  it('unwraps {"Response": ...} JSON and keeps repeatable nodes as lists', async () => {
    const event = await eventOf('ci-wordsgeneralize-json-response-wrapped');
    expect(event.data).toMatchObject({
      message: 'Success',
      operation: {
        WordsGeneralizeResult: {
          WordsGeneralizeLable: [{ Category: 'ORG', Word: '腾讯云' }],
          WordsGeneralizeToken: [{ Word: '腾讯云' }, { Word: '发布' }],
        },
      },
    });
  });

  it('keeps Chinese keys and PageInfo lists of the DocProcess capture', async () => {
    const event = await eventOf('ci-docprocess-xml-declaration-tabs');
    expect(event.data).toMatchObject({
      object: '合同/2024/采购合同.docx',
      operation: {
        DocProcessResult: {
          PageInfo: [
            { PageNo: '1', TgtUri: 'preview/采购合同/1.jpg' },
            { PageNo: '2', TgtUri: 'preview/采购合同/2.jpg' },
          ],
        },
      },
    });
  });

  it.each([
    ['ci-speechrecognition-xml', ['SpeechRecognitionResult', 'ResultDetail'], 2],
    ['ci-splitvideoparts-xml', ['SplitVideoInfoResult', 'TimeInfo'], 3],
    ['ci-smartcover-xml', ['MediaResult', 'OutputFile', 'ObjectName'], 3],
    ['ci-streamextract-xml', ['MediaResult', 'OutputFile', 'Md5Info'], 2],
    ['ci-videotag-json', ['VideoTagResult', 'StreamData', 'Data', 'PersonTags'], 1],
    ['ci-videotargetrec-xml', ['VideoTargetRecResult', 'CarRecognition'], 1],
    ['ci-vocalscore-xml', ['VocalScoreResult', 'PitchScore', 'SentenceScores'], 1],
    ['ci-imageocr-xml', ['Detection', 'TextDetections'], 1],
    ['ci-qualityestimate-xml', ['QualityEstimate', 'VqaPlusResult', 'DetailedResult'], 1],
    ['ci-dna-xml', ['DnaResult', 'Detection', 'MatchDetail'], 1],
  ] as const)('%s: %j is a list of %i', async (name, path, length) => {
    const event = await eventOf(name);
    const value = path.reduce<unknown>(
      (node, key) => (typeof node === 'object' && node !== null ? Object(node)[key] : undefined),
      event.data.operation,
    );
    expect(Array.isArray(value) ? value.length : value).toBe(length);
  });

  it('describes the first job of several and keeps the others, once, under data.otherJobs', async () => {
    const { status, events } = await post(
      '{"EventName":"TaskFinish","JobsDetail":[{"JobId":"j1","State":"Success","Tag":"A"},{"JobId":"j2","State":"Failed","Tag":"B","Code":"E1","Message":"boom"}]}',
      'application/json',
    );
    expect(status).toBe(200);
    expect(events[0]).toMatchObject({ subject: 'j1', data: { status: 'succeeded', tag: 'A' } });
    expect(events[0]?.data.otherJobs).toEqual([
      { jobId: 'j2', tag: 'B', code: 'E1', cosHeaders: [], state: 'Failed', status: 'failed', message: 'boom' },
    ]);
  });
});

describe('tencent-ci workflows', () => {
  it('maps tasks to steps, in order, times in UTC, with what else each task holds', async () => {
    const event = await eventOf('ci-workflowfinish-xml');
    expect(event.data).toMatchObject({
      runId: 'i166ee190dfa011eda8a5525400c540df',
      workflowName: 'workflow-3',
      createTime: '2024-03-16T06:54:17Z',
      steps: [
        {
          id: 'j23c11e1edfa011edaab4ab15ec33d076',
          status: 'succeeded',
          type: 'Snapshot',
          createTime: '2024-03-16T06:54:40Z',
          endTime: '2024-03-16T06:54:42Z',
          task: { TemplateName: 'snapshot_1280*720_3' },
        },
        { id: 'j168668b2dfa011ed8efb27bb229e2d11', status: 'succeeded', type: 'Transcode' },
      ],
    });
    expect(event.data).not.toHaveProperty('workflowExecution');
    expect(event.data.steps?.[0]?.task).not.toHaveProperty('JobId');
  });

  it('reads a single CosHeaders, Tasks and ObjectInfo as one-item lists, and numbers as text', async () => {
    const event = await eventOf('ci-workflowfinish-single-json');
    expect(event.data.cosHeaders).toEqual([{ key: 'Content-Type', value: 'video/mp4' }]);
    expect(event.data.steps).toHaveLength(1);
    expect(event.data.steps?.[0]).toMatchObject({
      status: 'failed',
      task: { ResultInfo: { ObjectCount: '0', ObjectInfo: [{ ObjectName: 'wk-test/one.m3u8', Code: 'Failed' }] } },
    });
  });

  it('reads the legacy workflow form: empty <X></X> as "", time from CreateTime when no task ended', async () => {
    const event = await eventOf('ci-legacy-workflowexecution-xml');
    expect(event.data).toMatchObject({ legacyFormat: true, bucketId: '', workflowName: '', steps: [{ status: 'failed' }] });
    expect(event.data.steps?.[0]).not.toHaveProperty('endTime');
  });

  it('takes a workflow that is under way (Running) as an event with that status, type unchanged', async () => {
    const event = await eventOf('ci-workflowfinish-running-xml');
    expect(event).toMatchObject({
      type: 'tencentci.workflow.finished',
      time: '2024-04-22T01:15:02Z',
      data: { status: 'running', terminal: false },
    });
  });
});

describe('tencent-ci content moderation', () => {
  it('reads the detailed form of every kind: verdict, label, score and categories', async () => {
    const verdicts = [];
    for (const kind of ['image-detail', 'video-detail', 'audio-detail', 'text-detail', 'document-detail', 'html', 'live-auditing']) {
      const { data } = await eventOf(`ci-moderation-${kind}-json`);
      const { categories, ...verdict } = v.parse(
        v.object({
          moderation: v.looseObject({ categories: v.array(v.looseObject({ name: v.string(), hitFlag: v.optional(v.number()) })) }),
        }),
        data,
      ).moderation;
      verdicts.push([kind, data.eventName, verdict, categories.map((c) => `${c.name}:${c.hitFlag}`)]);
    }
    expect(verdicts).toEqual([
      [
        'image-detail',
        'ReviewImage',
        { result: 1, verdict: 'sensitive', label: 'Porn', subLabel: 'SexBehavior', category: 'Porn', score: 98, forbidState: 1 },
        ['porn:1', 'terrorism:0', 'politics:0', 'ads:0'],
      ],
      ['video-detail', 'ReviewVideo', { result: 2, verdict: 'suspicious', label: 'Ads', forbidState: 0 }, ['porn:0', 'ads:2']],
      ['audio-detail', 'ReviewAudio', { result: 0, verdict: 'normal', label: 'Normal', forbidState: 0 }, ['porn:0', 'ads:0']],
      ['text-detail', 'ReviewText', { result: 1, verdict: 'sensitive', label: 'Abuse', score: 91, forbidState: 0 }, ['abuse:1', 'porn:0']],
      ['document-detail', 'ReviewDocument', { result: 1, verdict: 'sensitive', label: 'Ads', forbidState: 0 }, ['porn:0', 'ads:1']],
      ['html', 'ReviewHtml', { result: 0, verdict: 'normal', label: 'Normal', forbidState: 0 }, ['porn:0', 'ads:0']],
      ['live-auditing', 'ReviewVideo', { result: 1, verdict: 'sensitive', label: 'Porn' }, ['porn:1']],
    ]);
  });

  it('keeps keywords of text results as the text CI sent, and lists elsewhere', async () => {
    const text = await eventOf('ci-moderation-text-detail-json');
    expect(text.data).toMatchObject({
      moderation: { categories: [{ name: 'abuse', detail: { Keywords: '笨蛋,傻瓜' } }, { name: 'porn' }] },
      detail: { Section: [{ AbuseInfo: { Keywords: '笨蛋,傻瓜', LibResults: [{ Keywords: ['笨蛋'] }] } }] },
    });
    const video = await eventOf('ci-moderation-video-detail-json');
    expect(video.data).toMatchObject({
      detail: {
        Snapshot: [{ SnapshotTime: '0' }, { AdsInfo: { OcrResults: [{ Keywords: ['加微信'] }] } }],
        AudioSection: [{ Text: '欢迎关注' }],
      },
    });
  });

  it('reads the simple form: code 0 succeeded, any other failed with the message; trace_id is the subject', async () => {
    const ok = await eventOf('ci-moderation-video-simple-json');
    expect(ok).toMatchObject({
      subject: 'av6f7a8b9c0d1e11eeb0a1525400abddee',
      data: {
        status: 'succeeded',
        sourceStatus: '0',
        form: 'simple',
        dataId: 'clip-78',
        cosHeaders: [{ key: 'x-cos-meta-user', value: 'u-2048' }],
        moderation: {
          result: 1,
          verdict: 'sensitive',
          forbidState: 1,
          categories: [
            { name: 'porn', hitFlag: 1, label: 'Porn', count: 3 },
            { name: 'ads', hitFlag: 0 },
          ],
        },
      },
    });
    const failed = await eventOf('ci-moderation-image-simple-failed-json');
    expect(failed.data).toMatchObject({ status: 'failed', terminal: true, sourceStatus: '4002', message: 'image decode failed' });
    // CI sent result 0 with its failure: never judged, so no verdict a consumer could approve on.
    expect(failed.data).toMatchObject({ moderation: { verdict: 'unknown' } });
    expect(failed.data).not.toHaveProperty('moderation.result');
  });

  it('gives a detailed moderation job that failed no verdict, whatever Result it carries', async () => {
    const { status, events } = await post(
      '{"EventName":"ReviewImage","JobsDetail":{"JobId":"si-failed","State":"Failed","Code":"InternalError","Message":"download failed","Result":0,"Label":"Normal"}}',
      'application/json',
    );
    expect(status).toBe(200);
    expect(events[0]?.data).toMatchObject({ status: 'failed', message: 'download failed', moderation: { verdict: 'unknown' } });
    expect(events[0]?.data).not.toHaveProperty('moderation.result');
  });

  it('tells apart interim live results of one job (same JobId, State and time), and keeps a resend its id', async () => {
    const body = (time: string) =>
      `{"EventName":"ReviewVideo","JobsDetail":{"JobId":"av9","State":"Auditing","CreationTime":"2024-04-28T20:00:00+08:00","Url":"rtmp://live.example.com/a","Result":1,"Snapshot":{"SnapshotTime":${time},"Result":1}}}`;
    const first = await post(body('60000'), 'application/json');
    const second = await post(body('120000'), 'application/json');
    const again = await post(body('60000'), 'application/json');
    expect([first.status, second.status, again.status]).toEqual([200, 200, 200]);
    expect(first.events[0]?.id).not.toBe(second.events[0]?.id);
    expect(again.events[0]?.id).toBe(first.events[0]?.id);
    expect(first.events[0]).toMatchObject({ time: '2024-04-28T12:00:00Z', data: { status: 'running', terminal: false } });
  });

  it.each([
    ['a Review* body without JobsDetail', '{"EventName":"ReviewImage"}', 'JobsDetail'],
    ['a moderation job without JobId', '{"EventName":"ReviewImage","JobsDetail":{"State":"Success"}}', 'JobsDetail.0.JobId'],
    ['a simple form without trace_id', '{"code":0,"data":{"event":"ReviewImage","result":0},"message":""}', 'data.trace_id'],
  ])('%s: 422 naming the field, nothing enqueued', async (_case, body, path) => {
    const { status, body: answer, events } = await post(body, 'application/json');
    expect(status).toBe(422);
    expect((answer.issues ?? []).some((issue) => issue.startsWith(`${path}:`))).toBe(true);
    expect(events).toHaveLength(0);
  });
});

describe('events/tencent-ci.schema.json', () => {
  const schemaText = readFileSync(TENCENT_CI_SCHEMA_FILE, 'utf8');
  const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(schemaText));

  it('is what npm run schema makes of the repeatable-node table now', () => {
    expect(schemaText).toBe(tencentCiSchemaText(schemaText));
  });

  it.each(validSamples('tencent-ci').map((f) => [f.name] as const))('describes the data of %s', async (name) => {
    const event = await eventOf(name);
    expect(validate(JSON.parse(JSON.stringify(event.data))), JSON.stringify(validate.errors)).toBe(true);
  });

  it('describes a callback of several jobs and a moderation result with several', async () => {
    for (const body of [
      '{"EventName":"TaskFinish","JobsDetail":[{"JobId":"j1","State":"Success"},{"JobId":"j2","State":"Failed","Message":"m","Input":{"Object":"a"}}]}',
      '{"EventName":"ReviewImage","JobsDetail":[{"JobId":"s1","State":"Success","Result":0},{"JobId":"s2","State":"Failed","Message":"m"}]}',
    ]) {
      const { events } = await post(body, 'application/json');
      expect(events[0]?.data.otherJobs).toHaveLength(1);
      expect(validate(events[0]?.data), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it.each([
    ['a status outside the vocabulary', (d: Record<string, unknown>) => ({ ...d, status: 'done' })],
    [
      'a repeatable node that is not a list',
      (d: Record<string, unknown>) => ({ ...d, operation: { MediaResult: { OutputFile: { Md5Info: { Md5: 'm' } } } } }),
    ],
    ['a CosHeader without value', (d: Record<string, unknown>) => ({ ...d, cosHeaders: [{ key: 'a' }] })],
    ['a number where CI sent text', (d: Record<string, unknown>) => ({ ...d, operation: { Size: 7 } })],
  ])('catches %s', async (_case, spoil) => {
    const event = await eventOf('ci-concat-workflow-xml');
    expect(validate(spoil(JSON.parse(JSON.stringify(event.data))))).toBe(false);
  });
});

const job1 = (fields: string) =>
  `<Response><EventName>TaskFinish</EventName><JobsDetail><JobId>j1</JobId><State>Success</State><Tag>Transcode</Tag>${fields}</JobsDetail></Response>`;

describe('tencent-ci variants no sample shows', () => {
  it('reads any child order alike', async () => {
    const a = await post(
      '<Response><JobsDetail><Tag>T</Tag><State>Success</State><JobId>j1</JobId><EndTime>2024-03-12T18:33:20+0800</EndTime></JobsDetail><EventName>TaskFinish</EventName></Response>',
    );
    const b = await post(
      '<Response><EventName>TaskFinish</EventName><JobsDetail><EndTime>2024-03-12T18:33:20+0800</EndTime><JobId>j1</JobId><State>Success</State><Tag>T</Tag></JobsDetail></Response>',
    );
    expect(a.status).toBe(200);
    expect(a.events[0]?.id).toBe(b.events[0]?.id);
    expect(a.events[0]?.time).toBe('2024-03-12T10:33:20Z');
  });

  it('reads JSON with numeric leaves as text, JobsDetail as an object or an array', async () => {
    for (const jobs of [
      '{"JobId":"j1","State":"Success","Progress":100,"Operation":{"JobLevel":0}}',
      '[{"JobId":"j1","State":"Success","Progress":100,"Operation":{"JobLevel":0}}]',
    ]) {
      const { status, events } = await post(`{"EventName":"TaskFinish","JobsDetail":${jobs}}`, 'application/json');
      expect(status).toBe(200);
      expect(events[0]?.data).toMatchObject({ progress: '100', operation: { JobLevel: '0' } });
    }
  });

  it('reads a legacy JSON body without EventName', async () => {
    const { events } = await post('{"WorkflowExecution":{"RunId":"r1","State":"Success","Tasks":[]}}', 'application/json');
    expect(events[0]).toMatchObject({
      type: 'tencentci.workflow.finished',
      subject: 'r1',
      time: RECEIVED.toISOString(),
      data: { legacyFormat: true, steps: [] },
    });
  });

  it('reads an empty <EventName/> like the legacy form', async () => {
    const { events } = await post('<Response><EventName/><JobsDetail><JobId>j1</JobId><State>Failed</State></JobsDetail></Response>');
    expect(events[0]).toMatchObject({ type: 'tencentci.job.finished', data: { status: 'failed', legacyFormat: true } });
  });

  it.each([
    ['Submitted', 'pending', false],
    ['Running', 'running', false],
    ['Auditing', 'running', false],
    ['Success', 'succeeded', true],
    ['Failed', 'failed', true],
    ['Pause', 'paused', false],
    ['Cancel', 'cancelled', true],
    ['Exploded', 'unknown', false],
    ['', 'unknown', false],
  ])('State %j is %s', (state, expectedStatus, terminal) => {
    // Act
    const status = ciStatus(state);
    // Assess
    expect(status).toBe(expectedStatus);
    expect(isTerminal(status)).toBe(terminal);
  });

  it('keeps the State CI sent as sourceStatus, whatever it maps to', async () => {
    const { status, events } = await post(job1('<Code>X</Code>').replace('<State>Success</State>', '<State>Exploded</State>'));
    expect(status).toBe(200);
    expect(events[0]?.data).toMatchObject({ status: 'unknown', terminal: false, sourceStatus: 'Exploded' });
  });

  it('accepts any Tag, and keeps SubTag', async () => {
    const { events } = await post(job1('<SubTag>DigitalWatermark</SubTag>').replace('Transcode', 'SomeTagFrom2030'));
    expect(events[0]?.data).toMatchObject({ tag: 'SomeTagFrom2030', subTag: 'DigitalWatermark' });
  });

  it('uses the receive time when EndTime is missing or not a time, and keeps the text', async () => {
    const { events } = await post(job1('<EndTime>soon</EndTime>'));
    expect(events[0]?.time).toBe(RECEIVED.toISOString());
    expect(events[0]?.data).toMatchObject({ endTime: 'soon' });
  });

  it('accepts an unknown EventName, with the name as subject when it carries no id, the body only in raw', async () => {
    const { status, events } = await post('{"EventName":"SomethingNew","Foo":{"Bar":"1"}}', 'application/json');
    expect(status).toBe(200);
    expect(events[0]).toMatchObject({ type: 'tencentci.event.unknown', subject: 'SomethingNew', data: { status: 'unknown' } });
    expect(Object.keys(events[0]?.data ?? {}).sort()).toEqual([
      'eventName',
      'labels',
      'legacyFormat',
      'raw',
      'sourceStatus',
      'status',
      'terminal',
    ]);
  });

  it('tells apart two unknown events that carry no job or run id', async () => {
    const a = await post('<Response><EventName>TaskStart</EventName><Foo>1</Foo></Response>');
    const b = await post('<Response><EventName>TaskStart</EventName><Foo>2</Foo></Response>');
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.events[0]?.id).not.toBe(b.events[0]?.id);
  });

  it('gives a callback delivered twice the same id', async () => {
    const first = await eventOf('ci-transcode-failed-xml');
    const second = await eventOf('ci-transcode-failed-xml');
    expect(second.id).toBe(first.id);
    expect((await eventOf('ci-concat-xml')).id).not.toBe(first.id);
  });

  it('keeps __proto__ and constructor nodes as own data, in XML and JSON', async () => {
    const xml = await post(job1('<Operation><__proto__><x>1</x></__proto__><constructor>c</constructor></Operation>'));
    const json = await post(
      '{"EventName":"TaskFinish","JobsDetail":{"JobId":"j1","State":"Success","Operation":{"__proto__":{"x":"1"},"constructor":"c"}}}',
      'application/json',
    );
    for (const { status, messages } of [xml, json]) {
      expect(status).toBe(200);
      expect(messages[0]?.body).toContain('"operation":{"__proto__":{"x":"1"},"constructor":"c"}');
    }
    expect(Object.prototype).not.toHaveProperty('x');
  });

  it('takes a base64-encoded body on any function URL path', async () => {
    const fixture = loadFixture('tencent-ci', 'ci-translation-xml');
    const response = await harness.handler(
      createHttpEvent({ body: fixture.body, isBase64Encoded: true, contentType: fixture.contentType, path: '/', frontDoor: 'functionUrl' }),
    );
    expect(response.statusCode).toBe(200);
    const [message] = await harness.drain();
    expect(JSON.parse(message?.body ?? '').subject).toBe('a1f0c2e6d8e3411eeb2a0525400aa11bb');
  });
});

describe('bad tencent-ci input', () => {
  const billionLaughs = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE lolz [<!ENTITY lol "lol">',
    ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`),
    ']>',
    '<Response><EventName>TaskFinish</EventName><JobsDetail><JobId>&lol9;</JobId><State>Success</State></JobsDetail></Response>',
  ].join('\n');
  const externalEntity =
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Response><EventName>TaskFinish</EventName><JobsDetail><JobId>&xxe;</JobId><State>Success</State></JobsDetail></Response>';
  const deep = `<Response>${'<a>'.repeat(10_000)}x${'</a>'.repeat(10_000)}</Response>`;

  it.each([
    ['billion laughs', billionLaughs, /<!DOCTYPE.*refused/],
    ['external entity', externalEntity, /<!DOCTYPE.*refused/],
    ['10,000 levels of nesting', deep, /nests deeper than 64/],
    ['JSON nested 10,000 levels', `{"EventName":"TaskFinish","JobsDetail":${'['.repeat(10_000)}${']'.repeat(10_000)}}`, /nests deeper/],
    ['malformed XML', '<Response><EventName>TaskFinish</EventName>\n<JobsDetail><JobId>j1</JobsDetail></Response>', /line 2/],
    ['text between two top-level elements', '<EventName>WorkflowFinish</EventName>x<WorkflowExecution/>', /Extra text|text between/],
    ['truncated JSON', '{"EventName":"TaskFinish","JobsDetail":{', /not valid JSON/],
    ['a form body', 'EventName=TaskFinish', /looks like a form/],
    ['empty', '', /empty/],
  ])('%s: 400 saying what is wrong, nothing enqueued', async (_case, body, message) => {
    const { status, body: answer, events } = await post(body);
    expect(status).toBe(400);
    expect(answer.error).toMatch(message);
    expect(events).toHaveLength(0);
  });

  it('keeps memory flat while refusing hostile XML again and again', async () => {
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 30; i++) {
      for (const body of [billionLaughs, externalEntity, deep]) {
        const response = await harness.handler(createHttpEvent({ body, contentType: 'application/xml', path: '/callbacks/tencent-ci' }));
        expect(response.statusCode).toBe(400);
      }
    }
    expect(await harness.drain()).toHaveLength(0);
    // An expanded billion laughs alone would take gigabytes; 64 MiB leaves room for the GC's timing.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024);
  });

  it.each([
    ['missing JobId', job1('').replace('<JobId>j1</JobId>', ''), 'JobsDetail.0.JobId'],
    ['empty JobId', job1('').replace('<JobId>j1</JobId>', '<JobId/>'), 'JobsDetail.0.JobId'],
    ['missing State', job1('').replace('<State>Success</State>', ''), 'JobsDetail.0.State'],
    ['JobId with children', job1('').replace('<JobId>j1</JobId>', '<JobId><A>1</A></JobId>'), 'JobsDetail.0.JobId'],
    ['TaskFinish without JobsDetail', '<Response><EventName>TaskFinish</EventName></Response>', 'JobsDetail'],
    ['empty JobsDetail', '<Response><EventName>TaskFinish</EventName><JobsDetail/></Response>', 'JobsDetail'],
    [
      'missing RunId',
      '<Response><EventName>WorkflowFinish</EventName><WorkflowExecution><State>Success</State></WorkflowExecution></Response>',
      'WorkflowExecution.RunId',
    ],
    ['workflow without State', '{"EventName":"WorkflowFinish","WorkflowExecution":{"RunId":"r1"}}', 'WorkflowExecution.State'],
    ['neither job nor workflow nor moderation', '<Response><Foo>1</Foo></Response>', '(body)'],
    ['EventName with children', '<Response><EventName><A/></EventName></Response>', 'EventName'],
    ['a JSON array', '[{"JobId":"j1"}]', '(body)'],
  ])('%s: 422 naming the field, nothing enqueued', async (_case, body, path) => {
    const { status, body: answer, events } = await post(body, body.startsWith('<') ? 'application/xml' : 'application/json');
    expect(status).toBe(422);
    expect((answer.issues ?? []).some((issue) => issue.startsWith(`${path}:`))).toBe(true);
    expect(events).toHaveLength(0);
  });
});
