/* Identifying details in a chat message: phone numbers, e-mail addresses, a Dutch postcode with house
 * number, links to social-media profiles. The chat warns before sending ("This may show who you are").
 *
 * These patterns mirror supportgroup/safety/detection.py (`identifying_details`): change both together;
 * tests/browser/test_safety_browser.py checks the same examples against both.
 *
 * window.SGIdentifying.kinds(text) -> ["phone", "email", "postcode", "social"] (the kinds found, in order).
 * If this browser cannot compile the patterns, kinds() finds nothing: sending is never blocked by it.
 */
(function () {
  "use strict";

  var W = "\\p{L}\\p{N}_";  // what Python's \w matches (letters, digits, underscore)
  var patterns = null;

  function compile() {
    return {
      // Dutch national numbers: 0 and nine more digits, single separators allowed (06-12345678, 020 123 45 67).
      national: new RegExp("(?<![" + W + "+])0\\d(?: ?[.\\-/]? ?\\d){8}(?!\\d)", "gu"),
      // International: +31 6 12345678, 0031612345678, +44 20 7946 0958, +31 (0)6 12345678.
      international: new RegExp("(?<![" + W + "+])(?:\\+|00) ?[1-9](?:[ .\\-]?(?:\\(0\\) ?)?\\d){7,13}(?!\\d)", "u"),
      date: /^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}/,
      email: new RegExp("(?<![" + W + ".+-])[" + W + ".+-]+@[" + W + "-]+(?:\\.[" + W + "-]+)*\\.[a-z]{2,}(?![" + W + "])", "iu"),
      // Dutch postcode with house number: 1234 AB 12, 1234AB 12a, 1234 ab 12-3.
      postcode: new RegExp("(?<![" + W + "])([1-9]\\d{3})( ?)([a-z]{2}) *,? *(\\d{1,5})(?: ?[a-z](?![" + W + "])|-\\d{1,4})?(?![" + W + "])", "giu"),
      social: new RegExp(
        "(?<![" + W + ".-])(?:https?://)?(?:www\\.|m\\.|mobile\\.|[a-z]{2}\\.)?(?:" +
        "(?:facebook|fb|instagram|twitter|x)\\.com/(?!\\s)[" + W + ".@%-]{2,}" +
        "|instagr\\.am/[" + W + ".]{2,}" +
        "|tiktok\\.com/@[" + W + ".]{2,}" +
        "|linkedin\\.com/in/[" + W + "%-]{2,}" +
        "|snapchat\\.com/add/[" + W + ".-]{2,})" +
        "|(?<![" + W + "])(?:insta(?:gram)?|tiktok|snap(?:chat)?|twitter|x|facebook|fb|ig)\\s*:?\\s*@[" + W + ".]{2,}",
        "iu")
    };
  }

  // Two-letter words that follow a number in ordinary sentences ("2024 en 3 kinderen"): postcode letters
  // only when written in capitals or attached to the digits.
  var COMMON_PAIRS = ("en in op om of te ik je we ze is de na al nu zo ja ok to at on or an as am by me my he it " +
                      "if so up no do go us uu mg km kg cm mm ml pm").split(" ");

  function hasPhone(text) {
    patterns.national.lastIndex = 0;
    var match;
    while ((match = patterns.national.exec(text)) !== null) {
      if (!patterns.date.test(match[0])) { return true; }
    }
    return patterns.international.test(text);
  }

  function hasPostcode(text) {
    patterns.postcode.lastIndex = 0;
    var match;
    while ((match = patterns.postcode.exec(text)) !== null) {
      var space = match[2], letters = match[3], lower = letters.toLowerCase();
      if (lower === "sa" || lower === "sd" || lower === "ss") { continue; }  // never used in Dutch postcodes
      if (space && COMMON_PAIRS.indexOf(lower) >= 0 && letters !== letters.toUpperCase()) { continue; }
      return true;
    }
    return false;
  }

  function kinds(text) {
    if (patterns === null) {
      try { patterns = compile(); } catch (error) { patterns = false; }
    }
    if (!patterns || !text) { return []; }
    var found = [];
    if (hasPhone(text)) { found.push("phone"); }
    if (patterns.email.test(text)) { found.push("email"); }
    if (hasPostcode(text)) { found.push("postcode"); }
    if (patterns.social.test(text)) { found.push("social"); }
    return found;
  }

  window.SGIdentifying = { kinds: kinds };
})();
