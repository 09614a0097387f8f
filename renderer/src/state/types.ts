/** Names for the contract's shapes the views use (all derived from the contract's schemas). */
import type { CommandInput, CommandOutput, EventPayload } from '../../../preload/contract.ts';

export type AppInfo = CommandOutput<'getAppInfo'>;
export type Settings = CommandOutput<'getSettings'>;
export type SettingsPatch = CommandInput<'updateSettings'>;
export type CorpusSummary = CommandOutput<'listCorpora'>['corpora'][number];
export type DocumentSummary = CommandOutput<'listDocuments'>['documents'][number];
export type SearchResult = CommandOutput<'search'>;
export type SearchHit = SearchResult['hits'][number];
export type SearchMode = SearchResult['mode'];
export type ChunkWithContext = CommandOutput<'getChunk'>;
export type CatalogModel = CommandOutput<'listModels'>['catalog'][number];
export type LocalModel = CommandOutput<'listModels'>['local'][number];
export type RunSummary = CommandOutput<'listRuns'>['runs'][number];
export type StartRunInput = CommandInput<'startRun'>;
/** A strategy id (which ids exist comes from listStrategies). */
export type StrategyId = NonNullable<StartRunInput['strategy']>;
export type StrategyInfo = CommandOutput<'listStrategies'>['strategies'][number];
export type StrategyOptionInfo = StrategyInfo['options'][number];
/** Option values as startRun takes them, by key. */
export type StrategyOptionValues = NonNullable<StartRunInput['options']>;
export type IngestProgressEvent = EventPayload<'onDidChangeIngestProgress'>;
export type DownloadProgressEvent = EventPayload<'onDidChangeDownloadProgress'>;

export const VIEW_IDS = ['ask', 'library', 'models', 'history', 'evaluate', 'settings'] as const;
export type ViewId = (typeof VIEW_IDS)[number];
