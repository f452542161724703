import { useCallback, useEffect, useRef, useState } from "react";
import { CANDIDATE_TOKEN_KEY, takeToken } from "../shared/auth";
import { PRE_CONSENT_STATES } from "../shared/types";
import { DeviceCheck } from "./DeviceCheck";
import { Ending } from "./Ending";
import { InterviewScreen } from "./InterviewScreen";
import { linkErrorText } from "./linkErrors";
import { requestMedia, stopStream } from "./media";
import { MessageScreen } from "./MessageScreen";
import { ReconnectingBanner } from "./ReconnectingBanner";
import { canAnswer, currentCaption, currentSpokenAnswer, isFinished } from "./session";
import { useCandidateSocket } from "./useCandidateSocket";
import { useVoice } from "./useVoice";
import { VoicePanel } from "./VoicePanel";
import { Welcome } from "./Welcome";

type Step = "welcome" | "device" | "interview";

/** The candidate's interview: welcome and consent, device check, questions, the end. */
export function CandidateApp() {
  const [token] = useState(() => takeToken(CANDIDATE_TOKEN_KEY));
  const live = useCandidateSocket(token);
  const [step, setStep] = useState<Step>("welcome");
  const { session, connection, error, consent, rtcHangup } = live;

  // The microphone (and camera) stream of a spoken interview; null: typed answers only.
  const [media, setMedia] = useState<MediaStream | null>(null);
  const [voiceNote, setVoiceNote] = useState<string | null>(null);
  const mediaRef = useRef<MediaStream | null>(null);
  mediaRef.current = media;
  const finished = session !== null && isFinished(session);
  const stopped = connection === "superseded" || connection === "refused";
  const voice = useVoice({
    stream: media,
    connected: connection === "connected",
    joinCount: live.joinCount,
    finished: finished || stopped,
    signal: live.voiceSignal,
    iceServers: live.iceServers,
  });

  const endVoice = useCallback((note: string | null) => {
    stopStream(mediaRef.current);
    setMedia(null);
    setVoiceNote(note);
  }, []);

  // The interview is over, this tab lost it, or the server has no voice: microphone off.
  useEffect(() => {
    if (!media) return;
    if (finished || stopped) endVoice(null);
    else if (voice.status === "unavailable") endVoice(voice.problem);
  }, [media, finished, stopped, voice.status, voice.problem, endVoice]);
  useEffect(() => () => stopStream(mediaRef.current), []);

  const onDeviceChoice = useCallback((stream: MediaStream | null) => {
    setMedia(stream);
    setVoiceNote(null);
    setStep("interview");
  }, []);
  const startVoice = useCallback(async (): Promise<string | null> => {
    const result = await requestMedia(false);
    if (!result.ok) return result.detail;
    stopStream(mediaRef.current);
    setMedia(result.stream);
    setVoiceNote(null);
    return null;
  }, []);
  const stopVoice = useCallback(() => {
    void rtcHangup();
    endVoice("Microphone off: you are answering by typing.");
  }, [rtcHangup, endVoice]);

  const onConsent = useCallback(async (): Promise<string | null> => {
    const ack = await consent();
    if (!ack.ok) return `The interview could not start: ${ack.error.message}`;
    // A typed-only server: no device check, no microphone asked for.
    setStep(live.voiceAvailable ? "device" : "interview");
    return null;
  }, [consent, live.voiceAvailable]);

  if (!token) {
    const text = linkErrorText({ code: "missing_token", message: "" });
    return (
      <MessageScreen title={text.title} testId="link-error">
        <p>{text.body}</p>
      </MessageScreen>
    );
  }
  if (connection === "superseded") {
    return (
      <MessageScreen title="Interview opened elsewhere" testId="superseded">
        <p className="lead">This interview was opened in another tab or window; continue there.</p>
        <p>Only one window can hold the interview at a time. Your answers so far are saved.</p>
      </MessageScreen>
    );
  }
  if (session && isFinished(session)) return <Ending session={session} />;
  if (connection === "refused") {
    const text = linkErrorText(error);
    return (
      <MessageScreen title={text.title} testId="link-error">
        <p>{text.body}</p>
      </MessageScreen>
    );
  }

  const banner =
    connection === "reconnecting" ? (
      <ReconnectingBanner attempts={live.reconnectAttempts} onRetry={live.retry} />
    ) : error ? (
      <div className="banner" role="alert">
        {error.message}
      </div>
    ) : null;

  let screen;
  if (!session) {
    screen = (
      <MessageScreen title="Opening your interview…">
        <p role="status">Connecting to the interview server.</p>
      </MessageScreen>
    );
  } else if (PRE_CONSENT_STATES.includes(session.state) && step === "welcome") {
    screen = (
      <Welcome
        templateTitle={session.templateTitle}
        mode={session.mode}
        notice={session.notice}
        onConsent={onConsent}
      />
    );
  } else if (step === "device") {
    screen = <DeviceCheck onContinue={onDeviceChoice} />;
  } else {
    const voicePanel = !live.voiceAvailable ? null : (
      <VoicePanel
        active={media !== null}
        voice={voice}
        note={voiceNote}
        promptId={session.prompt?.prompt_id ?? null}
        caption={currentCaption(session)}
        spokenAnswer={currentSpokenAnswer(session)}
        answerable={canAnswer(session)}
        connected={connection === "connected"}
        onStart={startVoice}
        onStop={stopVoice}
        endTurn={live.endTurn}
      />
    );
    screen = (
      <InterviewScreen
        session={session}
        connected={connection === "connected"}
        serverDraft={live.serverDraft}
        sendDraft={live.sendDraft}
        answer={live.answer}
        hint={live.hint}
        voicePanel={voicePanel}
        voiceOn={media !== null}
      />
    );
  }
  return (
    <>
      {banner}
      {screen}
    </>
  );
}
