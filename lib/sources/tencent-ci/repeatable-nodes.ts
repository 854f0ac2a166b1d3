/**
 * Every node of a Tencent CI callback that can repeat, by the parents it repeats under. In XML one
 * item looks exactly like a plain child, and CI's JSON (a mechanical conversion of the XML) turns one
 * item into an object and two into an array; only knowing the field tells a list from a node. The
 * tree shaping reads each of these as a list always: one item is a one-item list, `<X/>` none.
 *
 * How it was derived (not remembered): from tencentyun/cos-go-sdk-v5 at commit
 * cc9846d9e7f6c43e23e79884174230f0bd7c9b9f (2026-07-24), files `ci.go`, `ci_doc.go`,
 * `ci_fileprocess.go` and `ci_media.go` (`ci_metainsight.go` holds no callback body). Starting from
 * the structs a callback body decodes into (`JobsNotifyBody`, `MediaProcessJobsNotifyBody`,
 * `WorkflowExecutionNotifyBody`, and, as the `JobsDetail` they describe, `DocProcessJobDetail`,
 * `FileProcessJobsDetail`, `ASRJobDetail`, `ImageAuditingResult`, `AuditingJobDetail`,
 * `AudioAuditingJobDetail`, `TextAuditingJobDetail`, `DocumentAuditingJobDetail`,
 * `WebpageAuditingJobDetail`, `VirusDetectJobDetail`), every field reachable through struct fields
 * whose type is a slice (`[]T`) is one entry: its element name (the `xml:"..."` tag's name, or the
 * Go field name when the tag has none) under the element name of the struct that declares it.
 * Embedded structs count as their parent; `xml:"A>B"` paths make `B` a child of `A`. That gives 142
 * (parent, name) pairs. One fact comes from the job-type pages instead (`docs`): the speech
 * recognition page says `ResultDetail` is an array, where the SDK has a single pointer.
 *
 * A name that is a list only under some parents lists just those (`ObjectName` is a list in an
 * `OutputFile`, one name in `Md5Info`; `Audio`/`Video` in a media info `Stream`, one node in a
 * template; `Result` in a speech recognition result, the verdict elsewhere). One name cannot be told by
 * its parent alone: moderation `Keywords` under a category (`PornInfo`, ...) is `[]string` in the
 * SDK's `RecognitionInfo` and one comma-separated string in `TextRecognitionInfo`, which text results
 * use ({@link TEXT_RESULTS}); those entries say `textInTextResults`.
 *
 * To refresh (no script needed): fetch the SDK, then `grep -n '\[\]' ci.go ci_doc.go
 * ci_fileprocess.go ci_media.go`. For each hit in a struct reachable from the structs above (search
 * the struct's name to find the field that holds it, and that field's element name is the parent),
 * check that its (parent, name) is here; add what is new, with `text: true` when the items are a
 * scalar type. Request-only structs (`*Options`, `Create*`, templates not echoed in `Operation`)
 * are not reachable and stay out.
 */

/** One repeatable node: its element name and the parent element names it repeats under. */
export interface RepeatableNode {
  /** The element name (XML) or key (JSON). */
  readonly name: string;
  /** The element names of the parents under which it repeats. */
  readonly parents: readonly string[];
  /** The items are text (`[]string`, `[]int` in the SDK), not nodes. */
  readonly text?: true;
  /** One text, not a list, inside text results (see {@link TEXT_RESULTS}). */
  readonly textInTextResults?: true;
  /** Where the fact comes from when the SDK does not declare a slice. */
  readonly docs?: string;
}

/**
 * Where moderation results are text results (the SDK's `TextRecognitionInfo`): the whole callback of
 * a text moderation (`EventName` `ReviewText`), and a web page moderation's `TextResults`.
 */
export const TEXT_RESULTS = { eventNames: ['ReviewText'], nodes: ['TextResults'] } as const;

/** The repeatable CI nodes (see the module comment for how the table was derived). */
export const REPEATABLE_NODES: readonly RepeatableNode[] = [
  { name: 'ActionTags', parents: ['Data'] },
  { name: 'AreaCoordSet', parents: ['Items'], text: true },
  { name: 'Audio', parents: ['Stream'] },
  { name: 'AudioMixArray', parents: ['ConcatTemplate', 'Transcode', 'VideoMontage'] },
  { name: 'AudioSection', parents: ['JobsDetail'] },
  { name: 'BBox', parents: ['DetailPerSecond', 'Objects'] },
  { name: 'BodyInfo', parents: ['BodyRecognition'] },
  { name: 'BodyRecognition', parents: ['VideoTargetRecResult'] },
  { name: 'CarInfo', parents: ['CarRecognition'] },
  { name: 'CarRecognition', parents: ['VideoTargetRecResult'] },
  { name: 'ClipFrameResult', parents: ['PlaceTags'], text: true },
  { name: 'ConcatFragment', parents: ['ConcatTemplate'] },
  { name: 'CosHeaders', parents: ['Input', 'WorkflowExecution'] },
  { name: 'DetailedResult', parents: ['VqaPlusResult'] },
  { name: 'DetailPerSecond', parents: ['PersonTags'] },
  { name: 'ErrorFile', parents: ['ErrorDetail'], text: true },
  { name: 'FaceInfo', parents: ['FaceRecognition'] },
  { name: 'FaceRecognition', parents: ['VideoTargetRecResult'] },
  { name: 'FillInput', parents: ['FillConcat'] },
  {
    name: 'HitInfos',
    parents: ['AbuseInfo', 'AdsInfo', 'IllegalInfo', 'PoliticsInfo', 'PornInfo', 'SpamInfo', 'TerrorismInfo', 'ValueInfo'],
  },
  { name: 'ItemPolygon', parents: ['TextDetections'] },
  { name: 'Items', parents: ['DetailedResult'] },
  { name: 'JobsDetail', parents: ['Response'] },
  { name: 'Key', parents: ['DownloadConfig', 'FileCompressConfig'], text: true },
  { name: 'KeyConfig', parents: ['FileCompressConfig'] },
  {
    name: 'Keywords',
    parents: ['AbuseInfo', 'AdsInfo', 'IllegalInfo', 'PoliticsInfo', 'PornInfo', 'TerrorismInfo'],
    text: true,
    textInTextResults: true,
  },
  { name: 'Keywords', parents: ['LibResults', 'OcrResults', 'TeenagerInfo'], text: true },
  { name: 'Labels', parents: ['Data'] },
  { name: 'LanguageResults', parents: ['AudioSection', 'JobsDetail', 'Section'] },
  { name: 'LeftBottom', parents: ['WordPolygon'] },
  { name: 'LeftTop', parents: ['WordPolygon'] },
  {
    name: 'LibResults',
    parents: ['AbuseInfo', 'AdsInfo', 'IllegalInfo', 'PoliticsInfo', 'PornInfo', 'SpamInfo', 'TeenagerInfo', 'TerrorismInfo', 'ValueInfo'],
  },
  { name: 'LicenseRecognitionResult', parents: ['VideoTargetRecResult'] },
  { name: 'ListResults', parents: ['ListInfo'] },
  { name: 'MatchDetail', parents: ['Detection'] },
  { name: 'Md5Info', parents: ['OutputFile', 'SpriteOutputFile'] },
  { name: 'ObjectInfo', parents: ['ResultInfo'] },
  { name: 'ObjectName', parents: ['OutputFile', 'SpriteOutputFile'], text: true },
  { name: 'ObjectResults', parents: ['AbuseInfo', 'AdsInfo', 'IllegalInfo', 'PoliticsInfo', 'PornInfo', 'TeenagerInfo', 'TerrorismInfo'] },
  { name: 'Objects', parents: ['ObjectTags'] },
  { name: 'ObjectTags', parents: ['Data'] },
  { name: 'OcrResults', parents: ['AbuseInfo', 'AdsInfo', 'IllegalInfo', 'PoliticsInfo', 'PornInfo', 'TeenagerInfo', 'TerrorismInfo'] },
  { name: 'PageInfo', parents: ['DocProcessResult'] },
  { name: 'PersonTags', parents: ['Data'] },
  { name: 'PetInfo', parents: ['PetRecognition'] },
  { name: 'PetRecognition', parents: ['VideoTargetRecResult'] },
  { name: 'PlaceTags', parents: ['Data'] },
  { name: 'PlateInfo', parents: ['LicenseRecognitionResult'] },
  { name: 'Polygon', parents: ['TextDetections'] },
  { name: 'Positions', parents: ['HitInfos'] },
  {
    name: 'RecognitionResults',
    parents: ['AbuseInfo', 'AdsInfo', 'IllegalInfo', 'PoliticsInfo', 'PornInfo', 'TeenagerInfo', 'TerrorismInfo'],
  },
  { name: 'Result', parents: ['DetectDetail', 'SpeechRecognitionResult'] },
  {
    name: 'ResultDetail',
    parents: ['SpeechRecognitionResult'],
    docs: 'speech recognition: "Array of SentenceDetail"; one sentence comes as one element',
  },
  { name: 'Results', parents: ['ImageResults', 'PageSegment', 'TextResults'] },
  { name: 'RightBottom', parents: ['WordPolygon'] },
  { name: 'RightTop', parents: ['WordPolygon'] },
  { name: 'Section', parents: ['JobsDetail'] },
  { name: 'sentence_list', parents: ['FlashResult'] },
  { name: 'SentenceScores', parents: ['PitchScore', 'RhythemScore'] },
  { name: 'Snapshot', parents: ['JobsDetail'] },
  { name: 'SpeakerResults', parents: ['AbuseInfo', 'AdsInfo', 'IllegalInfo', 'PoliticsInfo', 'PornInfo', 'TeenagerInfo', 'TerrorismInfo'] },
  { name: 'SpliceInfo', parents: ['VideoSynthesis'] },
  { name: 'SpriteObjectInfo', parents: ['ResultInfo'] },
  { name: 'StreamExtract', parents: ['Output'] },
  { name: 'Subtitle', parents: ['Subtitles'] },
  { name: 'Tags', parents: ['ActionTags', 'Data', 'PlaceTags'] },
  { name: 'Tasks', parents: ['WorkflowExecution'] },
  { name: 'TextDetections', parents: ['Detection', 'ImageOcrResult'] },
  { name: 'TimeInfo', parents: ['SplitVideoInfoResult'] },
  { name: 'Video', parents: ['Stream'] },
  { name: 'Watermark', parents: ['Operation'] },
  { name: 'WatermarkTemplateId', parents: ['Operation'], text: true },
  { name: 'word_list', parents: ['sentence_list'] },
  { name: 'WordCoordinate', parents: ['WordCoordPoint'] },
  { name: 'WordCoordPoint', parents: ['Words'] },
  { name: 'WordPolygon', parents: ['TextDetections'] },
  { name: 'Words', parents: ['ResultDetail', 'TextDetections'] },
  { name: 'WordsGeneralizeLable', parents: ['WordsGeneralizeResult'] },
  { name: 'WordsGeneralizeToken', parents: ['WordsGeneralizeResult'] },
  { name: 'Workflow', parents: ['JobsDetail'] },
];
