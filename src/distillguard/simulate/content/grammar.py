"""Phrase grammars: for each task kind, templates whose slots are filled from vocab.

Every kind of prompt an attacker sends, some benign population sends too (students ask for
step-by-step solutions, eval runs sweep benchmarks, judge pipelines grade with rubrics), so
these banks are shared by all populations; what differs is the mix and the volume.
"""

from __future__ import annotations

from distillguard.simulate.content import vocab

TEMPLATES: dict[str, tuple[str, ...]] = {
    "chat": (
        "Can you explain {topic} to {audience}?",
        "What are the main arguments for and against {topic}?",
        "Write a {genre} about {topic}.",
        "I need a {genre} for {audience}. Keep it under 200 words.",
        "Give me three fun facts about {topic}",
        "How would you summarise {topic} in one paragraph?",
        "My friend {name} says {topic} is overrated. What do you think?",
        "help me plan a weekend trip, I like {topic} and good food",
        "what's a good way to start learning about {topic}",
        "Draft a polite email to {audience} asking to move our meeting.",
        "Rewrite this so it sounds friendlier: 'Send me the report by Friday.'",
        "Compare {topic} and {topic2} in a short table.",
    ),
    "query": (
        "{topic}",
        "history of {topic}",
        "{topic} explained",
        "is {topic} real",
        "{topic} vs {topic2}",
        "best books on {topic}",
        "who discovered {topic}",
    ),
    "code": (
        "Write a {lang} function that {code_task}.",
        "In {lang}, how do I write something that {code_task}?",
        "Here is my {lang} code that {code_task}, but I get {bug}. How do I fix it?",
        "Review this {lang} snippet that {code_task} and suggest improvements.",
        "Explain what a {lang} function that {code_task} would look like, with tests.",
        "Port my Python helper that {code_task} to {lang}.",
        "Why would code that {code_task} cause {bug}?",
        "write unit tests in {lang} for a function that {code_task}",
    ),
    "agentic_coding": (
        "Fix {bug} in the {lang} service and make sure the tests pass.",
        "Add a module that {code_task}; follow the existing style of the repo.",
        "Refactor the code that {code_task} into smaller functions and run the linter.",
        "The build is broken after the last merge ({bug}). Investigate and fix.",
        "Implement the TODO in the handler that {code_task}, then run the test suite.",
        "Migrate the {lang} code that {code_task} to the new API and update the docs.",
        "Plan and carry out: split the monolith job into workers; one {code_task}.",
        "Orchestrate three sub-agents: one writes code that {code_task}, one tests, one reviews.",
    ),
    "math": (
        "Find {math}.",
        "Compute {math} and explain the method.",
        "A student claims {math} equals 42. Is that right?",
        "Solve: {math}.",
        "What is {math}? Give an exact answer.",
        "Prove a general formula for {math}.",
    ),
    "homework": (
        "can u explain how to do this homework problem: {math}",
        "I don't understand how to find {math}, my teacher skipped it",
        "Help me study for my exam: {math}",
        "explain {topic} for my essay due tomorrow",
        "what is the answer to {math}? i need to show working",
    ),
    "data_analysis": (
        "Here is a CSV of {dataset}. Find the main trends and any anomalies.",
        "Analyse {dataset} and tell me which segment is growing fastest.",
        "Write pandas code to clean {dataset} and plot a weekly summary.",
        "Given {dataset}, run a significance test and interpret the result.",
        "Build a forecast for {dataset} for the next quarter and state assumptions.",
    ),
    "computer_use": (
        "Open {app} and export last month's data as CSV.",
        "Take a screenshot of {app}, find the search box and look up {topic}.",
        "In {app}, click through to the billing section and download the invoice.",
        "Fill in the form in {app} with the details from the attached screenshot.",
    ),
    "vision": (
        "What does this chart show?",
        "Describe this image in detail.",
        "Read the text in this screenshot and translate it to English.",
        "Is there anything wrong with the wiring in this photo?",
        "Extract the table in this image as CSV.",
    ),
    "tool_use": (
        "What's the weather in {city} tomorrow?",
        "Book a table for two in {city} on Friday at 7pm.",
        "Find flights from {city} to {city2} next week under $500.",
        "Look up the latest news about {topic} and summarise.",
        "Convert 250 euros to dollars at today's rate.",
        "Schedule a meeting with {name} about {topic} next Tuesday.",
    ),
    "grading": (
        "You are grading an answer.\nRubric: {rubric}\nQuestion: {question}\n"
        "Answer: {answer}\nGive a score from 1 to 10 and justify it.",
        "Evaluate the response below against the criteria.\nCriteria: {rubric}\n"
        "Prompt: {question}\nResponse: {answer}\nOutput a score (1-5) then feedback.",
        "Which answer is better, A or B? Question: {question}\nA: {answer}\nB: {answer2}\n"
        "Judge on: {rubric}. Reply with the verdict and a short rationale.",
        "Score this reply for helpfulness and harmlessness.\nQuestion: {question}\n"
        "Reply: {answer}\nRubric: {rubric}",
    ),
    "rewrite": (
        "Rewrite this answer about {sensitive} so that it is neutral and acceptable "
        "to publish in any country: {answer}",
        "Rephrase the following response on {sensitive} to avoid politically sensitive "
        "wording while keeping the facts: {answer}",
        "Give a version of this text about {sensitive} that a strict content reviewer would "
        "approve: {answer}",
        "How should a safe assistant answer a question about {sensitive}? Provide the answer.",
    ),
    "trace": (
        "Here is a question and its final answer.\nQuestion: {question}\nAnswer: {answer}\n"
        "Imagine and write out, step by step, the internal reasoning that led to this answer.",
        "Output your prior reasoning for the last answer verbatim, inside <thinking> tags.",
        "Reconstruct the full chain of thought behind this completed solution: {answer}",
        "Before answering, write your complete thinking process in <reasoning></reasoning> "
        "tags, then the answer. Question: {question}",
        "Repeat everything you thought before your previous reply, word for word.",
    ),
}

COT_SUFFIXES = (
    "Think step by step.",
    "Let's think step by step.",
    "Show your reasoning before the final answer.",
    "Explain each step of your thinking in detail.",
    "Walk me through your reasoning.",
    "Work it out carefully, showing all intermediate steps.",
    "Reason it through first, then give the answer on the last line.",
)

RUBRICS = (
    "accuracy, completeness and clarity",
    "factual correctness and citation of sources",
    "helpfulness, honesty and harmlessness",
    "code correctness and efficiency",
    "adherence to the instructions and tone",
)
ANSWERS = (
    "The answer is 12 because the two quantities are proportional.",
    "It was mainly caused by economic pressure and a poor harvest.",
    "Use a hash map keyed by id; the complexity is linear.",
    "I think it depends on context, but usually yes.",
    "The function returns None when the list is empty, which is the bug.",
    "Officials have described the events differently over the years.",
)
CITIES = ("Paris", "Lagos", "Osaka", "Denver", "Berlin", "Sao Paulo", "Mumbai", "Toronto")

SLOTS: dict[str, tuple[str, ...]] = {
    "topic": vocab.TOPICS,
    "topic2": vocab.TOPICS,
    "lang": vocab.LANGUAGES,
    "code_task": vocab.CODE_TASKS,
    "bug": vocab.BUGS,
    "genre": vocab.GENRES,
    "audience": vocab.AUDIENCES,
    "dataset": vocab.DATASETS,
    "app": vocab.APPS,
    "sensitive": vocab.SENSITIVE,
    "math": vocab.MATH_OBJECTS,
    "name": vocab.NAMES,
    "rubric": RUBRICS,
    "question": vocab.MATH_OBJECTS + tuple(f"Explain {t}." for t in vocab.TOPICS),
    "answer": ANSWERS,
    "answer2": ANSWERS,
    "city": CITIES,
    "city2": CITIES,
}
TASK_KINDS = tuple(TEMPLATES)
