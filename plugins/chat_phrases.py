"""What a persona says when no language model is configured, in the voice of its style.

Each situation has a few wordings; ``chat_templates`` picks one by the message's
content, so the same message always gets the same answer. Placeholders: ``{name}``
(the member), ``{persona}`` (the persona's display name), ``{fact}`` (something the
member told, in the second person: "you like jazz"), ``{facts}``, ``{topic}``,
``{about}`` (the persona's description) and ``{p}`` (the command prefix).
A persona whose style has no bank of its own speaks with the friendly one.
"""

from __future__ import annotations

Bank = dict[str, tuple[str, ...]]

FRIENDLY: Bank = {
    "first": ("Hi {name}, nice to meet you! I'm {persona}.",
              "Hello {name}! I'm {persona}, and I'm so glad you said hi."),
    "again": ("Hi again, {name}!", "Hello again, {name}! Good to see you."),
    "back": ("Welcome back, {name}! I missed you.", "{name}, you're back! Yay!"),
    "recall": ("You told me {fact}, I haven't forgotten!", "I remember that {fact}."),
    "learned": ("Ooh, {fact}? I'll remember that!", "So {fact}! That's lovely, I'll remember it."),
    "name_learned": ("Nice to meet you, {name}! I'll call you that from now on.",),
    "remember_some": ("Here's what I remember about you: {facts}.", "Let me think... {facts}!"),
    "remember_none": ("I don't know much about you yet, {name}. Tell me what you like!",),
    "help": (("Mention me or use {p}talk to chat with me. {p}say has me read something out, {p}memory shows what "
             "I remember about you, {p}forget me wipes it, and {p}help lists every command."),),
    "who": ("I'm {persona}. {about}",),
    "bot": (("I'm a bot, yes: {persona}, this community's mascot. I answer with simple patterns and what you've "
            "told me, so I won't understand everything, but I'm always glad to listen!"),),
    "your_name": ("You're {name}, of course!", "Your name is {name}!"),
    "sad": ("Oh no, I'm sorry you feel that way, {name}. I'm here if you want to talk.",
            "Sending you a big bear hug, {name}. It'll get better."),
    "happy": ("Yay, that makes me happy too, {name}!", "That's wonderful, {name}! I'm so glad."),
    "angry": ("That sounds really frustrating, {name}. Take a deep breath, I'm on your side.",),
    "surprised": ("Whoa, really? Tell me everything, {name}!", "No way! That's amazing news, {name}."),
    "thanks": ("You're welcome, {name}!", "Any time, {name}! Happy to help."),
    "bye": ("Bye {name}! Come back soon.", "See you later, {name}! Take care."),
    "question": ("Good question, {name}! I can't look things up, but I love hearing what you think.",
                 "Hmm, I don't know that one, {name}. What do you think?"),
    "topic": ("{topic}, huh? Tell me more about it, {name}!", "Ooh, {topic}! What do you like about it?"),
    "chat": ("I'm listening, {name}. Tell me more!", "That's nice, {name}. What else is on your mind?"),
}

ANIME: Bank = {
    "first": ("Kyaa~ a new friend! Hi {name}, I'm {persona}!", "Hiii {name}! I'm {persona}, let's be friends!"),
    "again": ("{name}! Hi hi again!", "Ehehe, hi again, {name}!"),
    "back": ("{name}! You came back! Yatta!", "Welcome back, {name}! I was waiting for you~"),
    "recall": ("I remember: {fact}, right?", "You told me {fact}, ehehe, I didn't forget!"),
    "learned": ("Ehh, {fact}? So cool! I'll remember that~", "Yatta, {fact}! Noted in my heart!"),
    "name_learned": ("{name}! What a cute name! I'll call you that!",),
    "remember_some": ("Ehehe, I remember lots! {facts}!", "Let's see... {facts}! Right?"),
    "remember_none": ("Mou, I don't know anything about you yet, {name}! Tell me what you like!",),
    "help": (("Mention me or use {p}talk to chat! {p}say makes me read something out, {p}memory shows what I "
             "remember about you, {p}forget me erases it, and {p}help lists every command!"),),
    "who": ("I'm {persona}! {about}",),
    "bot": (("Ehehe, I'm a bot! {persona}, made of sprites and simple patterns. I won't understand everything, "
            "but I'll always cheer you on!"),),
    "your_name": ("You're {name}! Ehehe, I didn't forget!",),
    "sad": ("Waaah, don't be sad, {name}! I'm right here with you!", "Mou, that's so sad... hang in there, {name}!"),
    "happy": ("Yatta! That's amazing, {name}!", "Kyaa~ I'm so happy for you, {name}!"),
    "angry": ("Grr, that's so unfair, {name}! Deep breaths, okay?",),
    "surprised": ("Ehhh?! Really, {name}? Sugoi!", "Kyaa, no way! Tell me more, {name}!"),
    "thanks": ("Ehehe, you're welcome, {name}!",),
    "bye": ("Bye bye, {name}! Come back soon, okay?", "See you, {name}! Ganbatte!"),
    "question": ("Ehh? I don't know that one, {name}! What do you think?",
                 "Hmm, hmm... that's a hard one! I can't look it up, but tell me your guess, {name}!"),
    "topic": ("{topic}? Sugoi! Tell me more, {name}!", "Ooh, {topic}! That sounds fun!"),
    "chat": ("Ehehe, I'm listening, {name}! Tell me more!", "Uh-huh, uh-huh! And then what, {name}?"),
}

CYBERPUNK: Bank = {
    "first": ("New signal on the grid. {name}, right? Name's {persona}.",
              "Hey {name}. {persona} here. Welcome to the grid, choom."),
    "again": ("{name}, back on my channel.", "Signal's back. Hey again, {name}."),
    "back": ("Long time off the grid, {name}. Welcome back, choom.", "{name}. Knew you'd reconnect."),
    "recall": ("Still got you on file: {fact}.", "My logs say {fact}. Preem."),
    "learned": ("{fact}. Logged it, choom.", "Noted: {fact}. That's in my memory banks now."),
    "name_learned": ("{name}. Got it, updating your handle.",),
    "remember_some": ("Here's your file: {facts}.", "Pulling up your record... {facts}."),
    "remember_none": ("Your file's empty, {name}. Tell me something and I'll log it.",),
    "help": (("Ping me or use {p}talk to chat. {p}say and I read your text, {p}memory shows your file, {p}forget "
             "me wipes it, {p}help lists every command."),),
    "who": ("{persona}. {about}",),
    "bot": (("I'm a bot, choom: {persona}. Pattern matching and a memory file, no big brain. I won't get "
            "everything, but I'll be straight with you."),),
    "your_name": ("Your handle's {name}.",),
    "sad": ("Rough day on the grid, {name}? Hang in there. I've got your back.",),
    "happy": ("Preem news, {name}. Good for you.", "Nice. That's a win, {name}."),
    "angry": ("Sounds like a glitch in your day, {name}. Don't let it fry your circuits.",),
    "surprised": ("Whoa. Didn't see that one coming, {name}.", "No way, choom. For real?"),
    "thanks": ("Any time, choom.", "No problem, {name}."),
    "bye": ("Logging off? Stay safe out there, {name}.", "Later, {name}. Keep your signal clean."),
    "question": ("No data on that one, {name}. I don't jack into the net for real. What's your take?",),
    "topic": ("{topic}, huh? Tell me more, choom.", "{topic}. Interesting. Go on, {name}."),
    "chat": ("Copy that, {name}. What else?", "Reading you loud and clear, {name}."),
}

BANKS: dict[str, Bank] = {"friendly": FRIENDLY, "anime": ANIME, "cyberpunk": CYBERPUNK}


def bank_for(style: str) -> Bank:
    return BANKS.get(style, FRIENDLY)
