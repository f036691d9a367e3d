from core.testing.testbot import MEMBER


async def test_hello(testbot):
    replies = await testbot.send("!hello")
    assert testbot.texts(replies) == ["Hello, Ada!"]


async def test_hello_on_every_platform(platform_driver):
    [answer] = await platform_driver.send("!hello", user=MEMBER)
    assert answer.text == "Hello, Ada!"
