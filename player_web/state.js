// What the page shows and what the tests read: one plain, JSON-serialisable object, exposed as
// `window.streamcorePlayer` and updated in place. See README.md for the contract.

const MAX_ENTRIES = 200; // bounded, so that a long session does not grow without end

export function createState({ assetId, engine, sessionId }) {
  return {
    version: 1,
    assetId,
    sessionId, // the playback session: the stream slot's id, else the player's own UUID
    viewerId: null,
    engine, // "hls" | "dash"
    ready: false, // levels known and the first frame can be shown
    phase: "loading", // loading | signin | profiles | streams | locked | subscribe | prompt | playing | paused | ended | stopped | failed
    // The sign-in (account.js): refreshes and signIns count what happened in this page.
    auth: {
      signedIn: false, email: null, deviceId: null, profileId: null, profileName: null,
      expiresAt: null, refreshes: 0, signIns: 0,
    },
    // The stream slot (slot.js): null id without one (anonymous playback without slots).
    session: { id: null, slot: false, heartbeatS: null, heartbeats: 0, failed: 0, ended: null, endedCode: null, startedAt: null },
    // A locked title and subscribing (access.js): the plans offered (names), the one chosen,
    // the subscription made (id, state), the last refusal ({status, code, message}).
    subscription: { locked: null, reason: null, plans: [], plan: null, subscribed: false, id: null, state: null, error: null },
    // Playback tokens (tokens.js): renewals taken from heartbeats, media URLs rewritten to them.
    tokens: { renewals: 0, rewritten: 0, expiresAt: null },
    // The last "too many streams" choice: {holders, limit, stopped} (stopped: a session id or null).
    streams: null,
    // What POST /v1/viewers/{id}/claim moved from this browser's anonymous viewer id, if anything.
    claim: null,
    sources: [], // names, primary first
    activeSource: null,
    expiresAt: null, // when the playback URLs' tokens expire (epoch seconds)
    steering: false, // the stream carries content steering (the library picks hosts)
    pathway: null, // the steering pathway (HLS) or service location (DASH) in use
    steeringManifests: null, // {hls, dash} steering URLs, when the playback API lists them
    levels: [], // [{index, height, width, bitrate, name}], lowest bitrate first
    autoLevel: true,
    // Audio renditions: [{index, language, label, channels}] as the engine lists them, the one
    // playing (-1 before any), and how many times it changed in this page.
    audioTracks: [],
    audioTrack: -1,
    audioSwitches: 0,
    // Caption tracks: [{index, language, label, kind}] and the one shown (-1: off).
    captionTracks: [],
    captionTrack: -1,
    currentLevel: -1, // the rendition on screen
    loadingLevel: -1, // the rendition being downloaded; differs from currentLevel while switching
    bandwidthEstimate: 0, // bits per second
    bufferAhead: 0, // seconds of video buffered ahead of the playhead (a live getter)
    bufferTarget: 0, // how far ahead the engine buffers, seconds
    droppedFrames: 0,
    decodedFrames: 0,
    framesPresented: 0, // from requestVideoFrameCallback: > 0 once a frame has been painted
    firstFrameAt: null, // Date.now() of this playback session's first frame (time to first frame)
    currentTime: 0, // a live getter
    duration: 0,
    poster: null,
    storyboard: { url: null, cues: 0 },
    resume: { offered: false, position_s: null, choice: null },
    switches: [], // rendition and source switches, oldest first, each with its reason
    stalls: [], // {at, position_s, cause, duration_ms} for each `waiting` until playback resumed
    errors: [], // {at, source, kind, fatal, status, details, action}
    // Playback events: queued now, sent (beacons: handed to sendBeacon), failed; and how many
    // of each type were tracked in this page.
    events: { queued: 0, sent: 0, failed: 0, beacons: 0, tracked: {} },
    progress: { sent: 0, failed: 0, last: null },
    message: "",
  };
}

/** Append to one of the bounded lists (switches, stalls, errors). */
export function record(list, entry) {
  list.push({ at: Date.now(), ...entry });
  if (list.length > MAX_ENTRIES) list.splice(0, list.length - MAX_ENTRIES);
  return list[list.length - 1];
}
