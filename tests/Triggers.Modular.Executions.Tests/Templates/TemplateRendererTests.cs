using System.Diagnostics;
using System.Text.Json;
using Triggers.Modular.Executions.Contracts.Templates;

namespace Triggers.Modular.Executions.Tests.Templates;

public sealed class TemplateRendererTests
{
    private static readonly JsonElement Context = Json("""
        {
          "trigger": {
            "customer_id": "c_123", "amount": 12.50, "flag": true, "nothing": null, "name": "Zoë",
            "items": [ { "name": "pen", "qty": 2 }, { "name": "ink", "qty": 1 } ],
            "nested": { "a": { "b": 1 } }, "odd key": "odd", "email": "Ann@Example.com",
            "big": "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
          },
          "steps": { "a": { "output": { "status": 201, "items": [ { "name": "first" } ] } } },
          "tenant": "acme"
        }
        """);

    private static JsonElement Json(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    [Theory]
    [InlineData("{{ trigger.customer_id }}", "c_123")]
    [InlineData("Hello {{ trigger.items[0].name }}!", "Hello pen!")]
    [InlineData("{{ steps.a.output.items[0].name }}/{{ steps.a.output.status }}", "first/201")]
    [InlineData("{{ trigger.nested.a.b }}", "1")]
    [InlineData("{{ trigger['odd key'] }}", "odd")]
    [InlineData("{{ tenant }}", "acme")]
    [InlineData("{{ trigger.flag }}", "true")]
    [InlineData("[{{ trigger.missing }}][{{ trigger.nothing }}][{{ nowhere.at.all }}]", "[][][]")]
    [InlineData("{{ trigger.name }}", "Zoë")]
    public void Given_a_path_When_rendered_Then_it_reads_the_context(string template, string expected) =>
        Assert.Equal(expected, TemplateRenderer.RenderString(template, Context));

    [Theory]
    [InlineData("{{ trigger.items | size }}", "2")]
    [InlineData("{{ trigger.items.size }}", "2")]
    [InlineData("{{ trigger.items.first.name }}-{{ trigger.items.last.name }}", "pen-ink")]
    [InlineData("{{ trigger.items | map: 'name' | join: '+' }}", "pen+ink")]
    [InlineData("{{ trigger.email | downcase }}", "ann@example.com")]
    [InlineData("{{ trigger.items[0].qty | times: 3 }}", "6")]
    [InlineData("{{ trigger.missing | default: 'none' }}", "none")]
    [InlineData("{% for i in trigger.items %}{{ i.name }}{% unless forloop.last %},{% endunless %}{% endfor %}", "pen,ink")]
    [InlineData("{% if trigger.flag and steps.a.output.status == 201 %}yes{% else %}no{% endif %}", "yes")]
    [InlineData("{% assign n = trigger.items | size %}{{ n | plus: 1 }}", "3")]
    [InlineData("{% capture c %}<{{ trigger.customer_id }}>{% endcapture %}{{ c }}{{ c }}", "<c_123><c_123>")]
    [InlineData("{% for i in (1..5) %}{{ i }}{% endfor %}", "12345")]
    [InlineData("a  {{- trigger.customer_id -}}  b", "ac_123b")]
    [InlineData("{% raw %}{{ not rendered }}{% endraw %}", "{{ not rendered }}")]
    [InlineData("{% for i in trigger.items limit: 1 %}{{ i.name }}{% endfor %}|{% for i in trigger.items offset: continue %}{{ i.name }}{% endfor %}", "pen|ink")]
    [InlineData("{% for i in (1..6) offset: 2 limit: 3 reversed %}{{ i }}{% endfor %}", "543")]
    [InlineData("{% for i in (1..4) %}{% cycle 'a', 'b' %}{% endfor %}", "abab")]
    [InlineData("{% case trigger.items[0].name %}{% when 'pen' %}P{% else %}X{% endcase %}", "P")]
    [InlineData("{% for i in (1..3) %}{% ifchanged %}{{ i | divided_by: 2 }}{% endifchanged %}{% endfor %}", "01")]
    [InlineData("{% for i in (1..5) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 4 %}{% break %}{% endif %}{{ i }}{% endfor %}", "13")]
    public void Given_filters_tags_and_arrays_When_rendered_Then_they_behave_as_liquid(string template, string expected) =>
        Assert.Equal(expected, TemplateRenderer.RenderString(template, Context));

    [Fact]
    public void Given_markup_in_values_When_rendered_Then_nothing_is_html_encoded() =>
        Assert.Equal("<b>x & \"y\"</b>", TemplateRenderer.RenderString("<b>{{ 'x & \"y\"' }}</b>", Context));

    [Fact]
    public void Given_a_string_without_a_template_When_rendered_Then_it_is_returned_untouched()
    {
        var text = "plain text with { braces } and }} and {not a tag}";

        Assert.Same(text, TemplateRenderer.RenderString(text, Context));
    }

    [Theory]
    [InlineData("{{ trigger. }}")]
    [InlineData("{{ trigger.customer_id }")]
    [InlineData("{% if trigger.flag %}unclosed")]
    public void Given_a_template_that_does_not_parse_When_rendered_Then_a_render_exception_says_so(string template)
    {
        var error = Assert.Throws<TemplateRenderException>(() => TemplateRenderer.RenderString(template, Context));

        Assert.StartsWith("The Liquid template does not parse: ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_an_include_When_rendered_Then_it_fails_with_a_render_exception()
    {
        var error = Assert.Throws<TemplateRenderException>(() => TemplateRenderer.RenderString("{% include 'secrets' %}", Context));

        Assert.StartsWith("The template could not be rendered: ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{% for i in (1..1000000000) %}x{% endfor %}", "range")]
    [InlineData("{{ (1..1000000000) | size }}", "range")]
    [InlineData("{% for i in (1..10000) %}{% for j in (1..10000) %}{% endfor %}{% endfor %}", "more than 100,000 statements")]
    [InlineData("{% assign s = 'xxxxxxxxxx' %}{% for i in (1..60) %}{% assign s = s | append: s %}{% endfor %}{{ s | size }}", "characters")]
    [InlineData("{% capture c %}{% for i in (1..10000) %}{% for j in (1..10) %}{{ trigger.big }}{% endfor %}{% endfor %}{% endcapture %}", "characters")]
    [InlineData("{% for i in (1..10000) %}{{ trigger.big }}{{ trigger.big }}{% endfor %}", "characters")]
    public void Given_a_template_that_would_run_away_When_rendered_Then_a_limit_stops_it_quickly(string template, string says)
    {
        var clock = Stopwatch.StartNew();

        var error = Assert.Throws<TemplateRenderException>(() => TemplateRenderer.RenderString(template, Context));

        Assert.StartsWith("The template went past a limit: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(says, error.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public void Given_a_loop_within_the_limits_When_rendered_Then_it_completes()
    {
        var text = TemplateRenderer.RenderString("{% for i in (1..5000) %}{{ trigger.customer_id }};{% endfor %}", Context);

        Assert.Equal(5000 * "c_123;".Length, text.Length);
    }

    [Fact]
    public void Given_a_value_of_exactly_one_plain_path_When_rendered_as_json_Then_it_keeps_the_referenced_type()
    {
        var rendered = TemplateRenderer.RenderJson(Json("""
            {
              "amount": "{{ trigger.amount }}", "flag": "{{trigger.flag}}", "nested": "{{ trigger.nested }}",
              "items": "{{ trigger.items }}", "first": "{{ steps.a.output.items[0] }}", "nothing": "{{ trigger.nothing }}",
              "missing": "{{ trigger.missing }}", "odd": "{{ trigger['odd key'] }}", "count": "{{ trigger.items.size }}",
              "last": "{{ trigger.items.last }}", "name": "{{ trigger.name }}"
            }
            """), Context);

        Assert.Equal(JsonValueKind.Number, rendered.GetProperty("amount").ValueKind);
        Assert.Equal("12.50", rendered.GetProperty("amount").GetRawText());
        Assert.Equal(JsonValueKind.True, rendered.GetProperty("flag").ValueKind);
        Assert.Equal(1, rendered.GetProperty("nested").GetProperty("a").GetProperty("b").GetInt32());
        Assert.Equal(2, rendered.GetProperty("items").GetArrayLength());
        Assert.Equal("pen", rendered.GetProperty("items")[0].GetProperty("name").GetString());
        Assert.Equal("first", rendered.GetProperty("first").GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, rendered.GetProperty("nothing").ValueKind);
        Assert.Equal(JsonValueKind.Null, rendered.GetProperty("missing").ValueKind);
        Assert.Equal("odd", rendered.GetProperty("odd").GetString());
        Assert.Equal(2, rendered.GetProperty("count").GetInt32());
        Assert.Equal("ink", rendered.GetProperty("last").GetProperty("name").GetString());
        Assert.Equal(1, rendered.GetProperty("last").GetProperty("qty").GetInt32());
        Assert.Equal("Zoë", rendered.GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("{{ trigger.items[0].qty | plus: 1 }}", "3")]
    [InlineData("{{ trigger.items[0].qty }} pens", "2 pens")]
    [InlineData(" {{ trigger.items[0].qty }}", " 2")]
    [InlineData("{{ trigger.items[0].qty }}{{ trigger.items[1].qty }}", "21")]
    [InlineData("{% if trigger.flag %}{{ trigger.items[0].qty }}{% endif %}", "2")]
    [InlineData("{{ trigger.flag }}!", "true!")]
    public void Given_a_value_that_is_more_than_one_plain_path_When_rendered_as_json_Then_it_is_text(string template, string expected)
    {
        var rendered = TemplateRenderer.RenderJson(JsonSerializer.SerializeToElement(new { v = template }), Context).GetProperty("v");

        Assert.Equal(JsonValueKind.String, rendered.ValueKind);
        Assert.Equal(expected, rendered.GetString());
    }

    [Fact]
    public void Given_nested_objects_and_arrays_When_rendered_as_json_Then_every_string_is_rendered_and_the_rest_is_kept()
    {
        var value = Json("""
            {
              "{{ trigger.customer_id }}": "key kept",
              "list": [ "id={{ trigger.customer_id }}", 3, true, null, { "deep": [ "{{ tenant }}" ] } ],
              "plain": "no template", "number": 1.50, "empty": {}
            }
            """);

        var rendered = TemplateRenderer.RenderJson(value, Context);

        Assert.Equal("key kept", rendered.GetProperty("{{ trigger.customer_id }}").GetString());
        var list = rendered.GetProperty("list");
        Assert.Equal("id=c_123", list[0].GetString());
        Assert.Equal(3, list[1].GetInt32());
        Assert.Equal(JsonValueKind.True, list[2].ValueKind);
        Assert.Equal(JsonValueKind.Null, list[3].ValueKind);
        Assert.Equal("acme", list[4].GetProperty("deep")[0].GetString());
        Assert.Equal("no template", rendered.GetProperty("plain").GetString());
        Assert.Equal("1.50", rendered.GetProperty("number").GetRawText());
        Assert.Equal(JsonValueKind.Object, rendered.GetProperty("empty").ValueKind);
    }

    [Fact]
    public void Given_a_variable_assigned_in_one_string_When_rendered_as_json_Then_the_next_string_does_not_see_it()
    {
        var rendered = TemplateRenderer.RenderJson(Json("""[ "{% assign x = 'A' %}{{ x }}", "[{{ x }}]" ]"""), Context);

        Assert.Equal("A", rendered[0].GetString());
        Assert.Equal("[]", rendered[1].GetString());
    }

    [Fact]
    public void Given_a_json_value_with_a_broken_template_When_rendered_Then_a_render_exception_is_thrown() =>
        Assert.Throws<TemplateRenderException>(() => TemplateRenderer.RenderJson(Json("""{ "a": ["ok", "{{ trigger. }}"] }"""), Context));

    [Fact]
    public void Given_a_top_level_string_When_rendered_as_json_Then_it_is_rendered_too()
    {
        Assert.Equal(201, TemplateRenderer.RenderJson(Json("\"{{ steps.a.output.status }}\""), Context).GetInt32());
        Assert.Equal("c_123!", TemplateRenderer.RenderJson(Json("\"{{ trigger.customer_id }}!\""), Context).GetString());
    }

    [Fact]
    public void Given_no_context_When_rendered_Then_variables_are_empty() =>
        Assert.Equal("[]", TemplateRenderer.RenderString("[{{ trigger.customer_id }}]", default));

    [Fact]
    public void Given_the_same_template_rendered_concurrently_When_contexts_differ_Then_each_gets_its_own_values()
    {
        var results = Enumerable.Range(0, 200).AsParallel().Select(i =>
            (i, TemplateRenderer.RenderString("{{ trigger.n }}-{% for x in trigger.list %}{{ x }}{% endfor %}",
                JsonSerializer.SerializeToElement(new { trigger = new { n = i, list = new[] { i, i } } })))).ToList();

        Assert.All(results, r => Assert.Equal($"{r.i}-{r.i}{r.i}", r.Item2));
    }
}
