"""What a persona says when no language model is configured, in the voice of its style.

Each situation has a few wordings; ``chat_templates`` picks one by the message's
content, so the same message always gets the same answer. Placeholders: ``{name}``
(the member), ``{persona}`` (the persona's display name), ``{fact}`` (something the
member told, in the second person: "you like jazz"), ``{facts}``, ``{topic}``,
``{about}`` (the persona's description) and ``{p}`` (the command prefix).
A persona whose style has no bank of its own speaks with the friendly one. In Mandarin and
Spanish every style speaks with that language's one bank.
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

MANDARIN: Bank = {
    "first": ("你好，{name}！很高兴认识你，我是{persona}。", "{name}你好！我是{persona}，谢谢你跟我打招呼。"),
    "again": ("又见面了，{name}！", "{name}，你好呀！见到你真好。"),
    "back": ("欢迎回来，{name}！我好想你。", "{name}，你回来啦！太好了！"),
    "recall": ("你告诉过我，{fact}，我没有忘记！", "我记得，{fact}。"),
    "learned": ("哦，{fact}？我会记住的！", "原来{fact}！真好，我记住了。"),
    "name_learned": ("很高兴认识你，{name}！以后我就这样叫你。",),
    "remember_some": ("我记得这些：{facts}。", "让我想想……{facts}！"),
    "remember_none": ("我还不太了解你，{name}。跟我说说你喜欢什么吧！",),
    "help": (("提到我或者用 {p}talk 跟我聊天。{p}say 让我读出一段话，{p}memory 显示我记得你的事，"
              "{p}forget me 让我全部忘掉，{p}help 列出所有命令。"),),
    "who": ("我是{persona}。{about}",),
    "bot": (("是的，我是机器人：{persona}，这个社区的吉祥物。我用简单的模板和你告诉我的事来回答，"
             "不是什么都懂，但我很乐意听你说！"),),
    "your_name": ("你是{name}呀！", "你的名字是{name}！"),
    "sad": ("哎呀，听到你这么说我很难过，{name}。想聊的话我一直在。", "给你一个大大的拥抱，{name}。会好起来的。"),
    "happy": ("太好了，我也替你高兴，{name}！", "真棒，{name}！我好开心。"),
    "angry": ("听起来真让人生气，{name}。深呼吸，我站在你这边。",),
    "surprised": ("哇，真的吗？快跟我说说，{name}！", "不会吧！太厉害了，{name}。"),
    "thanks": ("不客气，{name}！", "随时都可以，{name}！很高兴能帮上忙。"),
    "bye": ("再见，{name}！早点回来哦。", "回头见，{name}！保重。"),
    "question": ("好问题，{name}！我查不了资料，但我很想听听你的想法。", "嗯，这个我不知道，{name}。你觉得呢？"),
    "topic": ("{topic}？再跟我多说一点吧，{name}！",),
    "chat": ("我在听呢，{name}。再多说一点吧！", "真不错，{name}。你还在想什么呢？"),
}

SPANISH: Bank = {
    "first": ("¡Hola, {name}! Encantada de conocerte, soy {persona}.",
              "¡Hola, {name}! Soy {persona}, qué alegría que me saludes."),
    "again": ("¡Hola otra vez, {name}!", "¡Hola de nuevo, {name}! Qué gusto verte."),
    "back": ("¡Bienvenido de nuevo, {name}! Te eché de menos.", "¡{name}, has vuelto! ¡Bien!"),
    "recall": ("Me dijiste que {fact}, ¡no lo he olvidado!", "Recuerdo que {fact}."),
    "learned": ("¿Así que {fact}? ¡Lo recordaré!", "¡Vaya, {fact}! Qué bonito, lo recordaré."),
    "name_learned": ("¡Encantada, {name}! Te llamaré así desde ahora.",),
    "remember_some": ("Esto es lo que recuerdo de ti: {facts}.", "A ver... ¡{facts}!"),
    "remember_none": ("Todavía no sé mucho de ti, {name}. ¡Cuéntame qué te gusta!",),
    "help": (("Menciónome o usa {p}talk para hablar conmigo. {p}say me hace leer algo en voz alta, {p}memory "
              "muestra lo que recuerdo de ti, {p}forget me lo borra y {p}help lista todos los comandos."),),
    "who": ("Soy {persona}. {about}",),
    "bot": (("Sí, soy un bot: {persona}, la mascota de esta comunidad. Respondo con frases sencillas y con lo que "
             "me has contado, así que no lo entenderé todo, ¡pero siempre me alegra escucharte!"),),
    "your_name": ("¡Eres {name}, claro!", "¡Te llamas {name}!"),
    "sad": ("Lo siento mucho, {name}. Estoy aquí si quieres hablar.",
            "Te mando un abrazo enorme, {name}. Todo irá mejor."),
    "happy": ("¡Qué alegría, {name}! Me hace muy feliz.", "¡Eso es maravilloso, {name}!"),
    "angry": ("Eso suena muy frustrante, {name}. Respira hondo, estoy de tu lado.",),
    "surprised": ("¿De verdad? ¡Cuéntamelo todo, {name}!", "¡No puede ser! Qué noticia, {name}."),
    "thanks": ("¡De nada, {name}!", "¡Cuando quieras, {name}! Me alegra ayudar."),
    "bye": ("¡Adiós, {name}! Vuelve pronto.", "¡Hasta luego, {name}! Cuídate."),
    "question": ("¡Buena pregunta, {name}! No puedo buscarlo, pero me encanta saber lo que piensas.",
                 "Mmm, eso no lo sé, {name}. ¿Tú qué piensas?"),
    "topic": ("¿{topic}? ¡Cuéntame más, {name}!", "¡Oh, {topic}! ¿Qué es lo que más te gusta?"),
    "chat": ("Te escucho, {name}. ¡Cuéntame más!", "Qué bien, {name}. ¿Qué más tienes en mente?"),
}

BANKS: dict[str, Bank] = {"friendly": FRIENDLY, "anime": ANIME, "cyberpunk": CYBERPUNK}
#: Banks of other languages, by the language they answer in (espeak-ng's name for it).
LANGUAGE_BANKS: dict[str, Bank] = {"cmn": MANDARIN, "es": SPANISH}


def bank_language(language: str | None) -> str | None:
    """The language of the bank that answers in ``language`` ("es-419" is "es"); None: English."""
    base = (language or "").split("-")[0]
    if base in {"cmn", "yue", "hak"}:  # Chinese that isn't Mandarin still reads Mandarin's characters
        return "cmn"
    return base if base in LANGUAGE_BANKS else None


def bank_for(style: str, language: str | None = None) -> Bank:
    chosen = bank_language(language)
    return LANGUAGE_BANKS[chosen] if chosen else BANKS.get(style, FRIENDLY)
