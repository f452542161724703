/** The candidate's microphone (and optional camera), asked for with getUserMedia. */

export const MIC_DENIED_TEXT = "We could not use your microphone — you can type your answers.";

export type MediaRequest =
  | {
      ok: true;
      stream: MediaStream;
      /** The camera was asked for but could not be used (the microphone works). */
      cameraFailed: boolean;
    }
  | { ok: false; detail: string };

/** Why getUserMedia failed, in words for the candidate (after MIC_DENIED_TEXT). */
export function mediaErrorDetail(error: unknown): string {
  const name =
    typeof error === "object" && error !== null && typeof (error as { name?: unknown }).name === "string"
      ? (error as { name: string }).name
      : "";
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
    return "Your browser did not allow access to the microphone.";
  }
  if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError") {
    return "No microphone was found.";
  }
  if (name === "NotReadableError" || name === "TrackStartError") {
    return "The microphone is in use by another program or could not be started.";
  }
  if (name === "NotSupportedError" || name === "TypeError") {
    return "This browser does not allow microphone access on this page.";
  }
  return "The microphone could not be started.";
}

/** Whether this browser can take part in a spoken interview at all. */
export function voiceSupported(): boolean {
  return (
    typeof navigator !== "undefined" &&
    typeof navigator.mediaDevices?.getUserMedia === "function" &&
    typeof RTCPeerConnection !== "undefined"
  );
}

const AUDIO_CONSTRAINTS: MediaTrackConstraints = {
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
};

/**
 * Asks for the microphone, and the camera too when `camera` is true. A camera that fails does
 * not fail the request: the microphone alone is asked for again.
 */
export async function requestMedia(camera: boolean): Promise<MediaRequest> {
  if (!voiceSupported()) {
    return { ok: false, detail: "This browser does not support spoken answers on this page." };
  }
  if (camera) {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: AUDIO_CONSTRAINTS, video: true });
      if (stream.getAudioTracks().length > 0) return { ok: true, stream, cameraFailed: false };
      stream.getTracks().forEach((track) => track.stop());
    } catch {
      // The camera (or the combined prompt) failed: ask for the microphone alone below.
    }
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: AUDIO_CONSTRAINTS });
    if (stream.getAudioTracks().length === 0) {
      stream.getTracks().forEach((track) => track.stop());
      return { ok: false, detail: "No microphone was found." };
    }
    return { ok: true, stream, cameraFailed: camera };
  } catch (error) {
    return { ok: false, detail: mediaErrorDetail(error) };
  }
}

/** Stops every track of the stream (the browser's recording indicator goes off). */
export function stopStream(stream: MediaStream | null | undefined): void {
  stream?.getTracks().forEach((track) => track.stop());
}
