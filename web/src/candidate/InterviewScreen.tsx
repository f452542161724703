import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import type { Ack, HintAck } from "../shared/types";
import { AnswerForm } from "./AnswerForm";
import { createDraftSender, type Draft, type DraftStatus } from "./drafts";
import { HintPanel } from "./HintPanel";
import { PracticeFeedback } from "./PracticeFeedback";
import { QuestionPanel } from "./QuestionPanel";
import { canAnswer, type CandidateSession } from "./session";

interface Props {
  session: CandidateSession;
  connected: boolean;
  serverDraft: { promptId: string | null; text: string; joinCount: number };
  sendDraft: (draft: Draft) => Promise<boolean>;
  answer: (promptId: string, text: string) => Promise<Ack>;
  hint: (promptId: string) => Promise<HintAck>;
  /** Voice status, live caption and "I'm done" (between the question and the typed answer). */
  voicePanel?: ReactNode;
  /** Voice is on: the typed answer is the alternative. */
  voiceOn?: boolean;
}

function blockedReason(session: CandidateSession, submitted: boolean, connected: boolean): string | null {
  if (!session.prompt) return null;
  if (submitted || session.answers[session.prompt.prompt_id] !== undefined) {
    return "Answer received. The next question will appear here.";
  }
  if (!connected) return "Reconnecting… your draft is kept here and you can submit once the connection is back.";
  switch (session.state) {
    case "paused":
      return "The interview is paused for a moment. Your draft is kept; you can go on when it resumes.";
    case "closing":
      return "The interview is closing.";
    case "consent":
    case "waiting":
    case "scheduled":
      return "The interview is about to start.";
    default:
      return null;
  }
}

/** The question, the typed answer, hints and (practice) scores. */
export function InterviewScreen({
  session,
  connected,
  serverDraft,
  sendDraft,
  answer,
  hint,
  voicePanel,
  voiceOn = false,
}: Props) {
  const prompt = session.prompt;
  const promptId = prompt?.prompt_id ?? null;
  const [texts, setTexts] = useState<Record<string, string>>(() =>
    serverDraft.promptId && serverDraft.text ? { [serverDraft.promptId]: serverDraft.text } : {},
  );
  const [submitted, setSubmitted] = useState<Record<string, boolean>>({});
  const [draftStatus, setDraftStatus] = useState<DraftStatus>("idle");
  const textsRef = useRef(texts);
  textsRef.current = texts;

  const drafts = useMemo(() => createDraftSender(sendDraft, setDraftStatus), [sendDraft]);
  useEffect(() => () => drafts.flush(), [drafts]);

  useEffect(() => {
    if (serverDraft.promptId && serverDraft.text) drafts.markSaved(serverDraft.promptId, serverDraft.text);
  }, [drafts, serverDraft.promptId, serverDraft.text]);

  // After every (re)join: restore the server's draft, or send ours if we typed while offline.
  useEffect(() => {
    const { promptId: draftPrompt, text } = serverDraft;
    if (!draftPrompt) return;
    const local = textsRef.current[draftPrompt] ?? "";
    if (!local && text) {
      setTexts((current) => ({ ...current, [draftPrompt]: text }));
    } else if (local && local !== text) {
      drafts.resend(draftPrompt, local);
    }
  }, [drafts, serverDraft]);

  useEffect(() => setDraftStatus("idle"), [promptId]);

  const value = promptId ? (texts[promptId] ?? "") : "";
  const isSubmitted = promptId ? submitted[promptId] === true : false;
  const enabled = !isSubmitted && canAnswer(session);

  const onChange = useCallback(
    (text: string) => {
      if (!promptId) return;
      setTexts((current) => ({ ...current, [promptId]: text }));
      drafts.update(promptId, text);
    },
    [drafts, promptId],
  );

  const onSubmit = useCallback(async (): Promise<string | null> => {
    if (!promptId) return "There is no question to answer right now.";
    const text = textsRef.current[promptId] ?? "";
    drafts.cancel();
    const ack = await answer(promptId, text);
    if (!ack.ok) {
      drafts.update(promptId, text);
      return `Your answer was not sent: ${ack.error.message} Your text is kept; try again.`;
    }
    setSubmitted((current) => ({ ...current, [promptId]: true }));
    setTexts((current) => ({ ...current, [promptId]: "" }));
    return null;
  }, [answer, drafts, promptId]);

  const practice = session.mode === "practice";

  return (
    <main id="main" className="interview">
      <header className="interview-header">
        <h1 className="interview-title">{session.templateTitle}</h1>
        {practice ? <span className="badge">Practice interview</span> : null}
        {session.state === "human_takeover" ? (
          <p className="alert" role="status">
            A human interviewer is asking the questions now.
          </p>
        ) : null}
      </header>
      <div className={practice ? "interview-grid" : ""}>
        <div className="stack">
          <QuestionPanel prompt={prompt} />
          {voicePanel}
          {prompt ? (
            <AnswerForm
              label={voiceOn ? "Or type your answer" : "Your answer"}
              promptId={prompt.prompt_id}
              value={value}
              onChange={onChange}
              onSubmit={onSubmit}
              enabled={enabled}
              online={connected}
              blockedReason={blockedReason(session, isSubmitted, connected)}
              draftStatus={draftStatus}
            />
          ) : null}
        </div>
        {practice ? (
          <aside className="stack" aria-label="Practice help">
            {prompt ? (
              <HintPanel
                promptId={prompt.prompt_id}
                hints={session.hints[prompt.prompt_id] ?? []}
                onHint={hint}
                disabled={!connected || !enabled}
              />
            ) : null}
            <PracticeFeedback prompts={session.prompts} scores={session.scores} />
          </aside>
        ) : null}
      </div>
    </main>
  );
}
