"""What the demo traffic says and who sends it: pt-BR wording, campaigns, templates, provider errors.

Template bodies hold `{param}` placeholders filled per message (see `generator.PARAMS`). Error codes
are the providers' own (Meta Cloud API codes kept in English as Meta sends them; Sinch Messaging
LATAM codes with their documented names), each consistent with the mappings in `data_access.catalog`.
"""
from dataclasses import dataclass

META = "meta"  # WhatsApp Cloud API: wamid ids, Meta error codes, pricing data
SINCH = "sinch"  # Sinch Messaging LATAM: uuid ids, Sinch status codes, no pricing data


@dataclass(frozen=True)
class Template:
    name: str
    category: str  # marketing | utility | authentication (Meta's template categories)
    body: str
    buttons: tuple[tuple[str, str], ...] = ()  # quick replies: (payload, text)


@dataclass(frozen=True)
class Stream:
    """One source of MT traffic: a campaign, template sends without a campaign, or service replies."""

    campaign: str | None
    subaccount: str
    users: tuple[str, ...]
    template: str | None  # None: session messages (agents answering customers)
    weight: float  # relative daily volume on an ordinary weekday
    week: str  # weekday profile: business | transactional | service
    hours: str  # hour-of-day profile: business | service | around_the_clock
    burst: tuple[float, int] | None = None  # (start as a fraction of the period, length in days)
    weekday: int | None = None  # sent only on this weekday (0 = Monday)


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template(
            "mega_liquidacao", "marketing",
            "Olá, {nome}! 🔥 A Mega Liquidação chegou: até 70% OFF em todo o site e frete grátis acima de "
            "R$ {valor}. Corra, é só até {data}!",
            (("LIQUIDACAO_QUERO", "Quero as ofertas"), ("LIQUIDACAO_SEM_INTERESSE", "Não tenho interesse")),
        ),
        Template(
            "ofertas_semana", "marketing",
            "{nome}, as ofertas da semana estão imperdíveis 🛍️ Descontos de até 40% em eletrodomésticos "
            "e smartphones. Confira antes que acabe!",
            (("OFERTAS_VER", "Ver ofertas"), ("OFERTAS_PARAR", "Parar de receber")),
        ),
        Template(
            "carrinho_abandonado", "marketing",
            "Oi, {nome}! Você esqueceu alguns itens no carrinho 🛒 Finalize sua compra hoje e ganhe 10% "
            "de desconto com o cupom VOLTEI10.",
            (("CARRINHO_FINALIZAR", "Finalizar compra"), ("CARRINHO_DEPOIS", "Lembrar mais tarde")),
        ),
        Template(
            "confirmacao_pedido", "utility",
            "{nome}, seu pedido nº {pedido} foi confirmado! ✅ Valor total: R$ {valor}. Previsão de "
            "entrega: {data}.",
            (("PEDIDO_RASTREAR", "Rastrear pedido"), ("PEDIDO_ATENDENTE", "Falar com atendente")),
        ),
        Template(
            "lembrete_vencimento", "utility",
            "Olá, {nome}. Sua fatura no valor de R$ {valor} vence em {data}. Pague em dia e evite juros 💳",
            (("FATURA_PIX", "Pagar com Pix"), ("FATURA_2VIA", "2ª via do boleto"), ("FATURA_PAGA", "Já paguei")),
        ),
        Template(
            "cobranca_atraso", "utility",
            "{nome}, identificamos uma pendência de R$ {valor} vencida em {data}. Regularize agora com "
            "condições especiais de negociação.",
            (("DIVIDA_NEGOCIAR", "Negociar dívida"), ("DIVIDA_PAGA", "Já paguei"), ("DIVIDA_NAO_RECONHECO", "Não reconheço")),
        ),
        Template(
            "codigo_verificacao", "authentication",
            "*{codigo}* é o seu código de verificação. Por segurança, não o compartilhe com ninguém.",
        ),
        Template(
            "pesquisa_satisfacao", "marketing",
            "Oi, {nome}! Como você avalia o atendimento que recebeu? Sua opinião é muito importante "
            "para nós 💬",
            (("NPS_OTIMO", "😀 Ótimo"), ("NPS_REGULAR", "😐 Regular"), ("NPS_RUIM", "😞 Ruim")),
        ),
        Template(
            "aniversario_cliente", "marketing",
            "Feliz aniversário, {nome}! 🎂🎉 Para comemorar, você ganhou 15% de desconto com o cupom "
            "NIVER15, válido até {data}.",
            (("ANIVERSARIO_CUPOM", "Usar meu cupom"),),
        ),
        Template(
            "lancamento_colecao", "marketing",
            "{nome}, a nova Coleção Verão ☀️ acabou de chegar! Peças exclusivas e parcelamento em até "
            "10x sem juros.",
            (("COLECAO_QUERO_VER", "Quero ver"), ("COLECAO_AGORA_NAO", "Agora não")),
        ),
        Template(
            "reativacao_cliente", "marketing",
            "Sentimos sua falta, {nome} 💙 Volte a comprar com a gente e ganhe frete grátis no próximo "
            "pedido. Válido até {data}.",
            (("REATIVAR_NOVIDADES", "Ver novidades"), ("REATIVAR_PARAR", "Parar de receber")),
        ),
        Template(
            "confirmacao_consulta", "utility",
            "Olá, {nome}! Sua consulta na Clínica Vida & Saúde está agendada para {data} às {hora}. "
            "Podemos confirmar sua presença?",
            (("CONSULTA_CONFIRMAR", "Confirmar"), ("CONSULTA_REMARCAR", "Remarcar"), ("CONSULTA_CANCELAR", "Cancelar")),
        ),
        Template(
            "boas_vindas", "marketing",
            "Bem-vindo(a), {nome}! 👋 A partir de agora você recebe nossas novidades e ofertas exclusivas "
            "por aqui. Para não receber mais, responda SAIR.",
        ),
    )
}

AGENTS = ("fernanda.ribeiro", "thiago.nunes", "patricia.gomes", "chatbot.atendimento")

STREAMS: tuple[Stream, ...] = (
    Stream("Mega Liquidação 🔥", "Matriz São Paulo", ("ana.souza",), "mega_liquidacao", 9.0,
           "business", "business", burst=(0.80, 4)),
    Stream("Ofertas da Semana", "Matriz São Paulo", ("bruno.carvalho",), "ofertas_semana", 6.0,
           "business", "business", weekday=1),
    Stream("Recuperação de Carrinho", "Matriz São Paulo", ("integracao.ecommerce",), "carrinho_abandonado", 1.0,
           "transactional", "service"),
    Stream("Confirmação de Pedido", "Matriz São Paulo", ("integracao.ecommerce",), "confirmacao_pedido", 1.6,
           "transactional", "service"),
    Stream(None, "Matriz São Paulo", ("api.autenticacao",), "codigo_verificacao", 1.3,
           "transactional", "around_the_clock"),
    Stream("Boas-vindas", "Matriz São Paulo", ("integracao.ecommerce",), "boas_vindas", 0.4,
           "transactional", "service"),
    Stream("Lembrete de Vencimento", "Cobrança", ("api.cobranca",), "lembrete_vencimento", 1.2,
           "business", "business"),
    Stream("Régua de Cobrança – Atraso", "Cobrança", ("carla.mendes", "api.cobranca"), "cobranca_atraso", 0.9,
           "business", "business"),
    Stream("Lançamento Coleção Verão ☀️", "Filial Nordeste", ("luiza.araujo",), "lancamento_colecao", 4.0,
           "business", "business", burst=(0.35, 5)),
    Stream("Aniversariantes do Mês 🎂", "Filial Nordeste", ("maria.conceicao",), "aniversario_cliente", 0.3,
           "transactional", "business"),
    Stream("Reativação de Clientes Inativos", "Filial Nordeste", ("joao.goncalves",), "reativacao_cliente", 2.0,
           "business", "business", burst=(0.55, 7)),
    Stream("Confirmação de Consultas", "Clínica Vida & Saúde", ("recepcao.central",), "confirmacao_consulta", 0.8,
           "business", "business"),
    Stream("Pesquisa de Satisfação (NPS)", "Atendimento", ("patricia.gomes",), "pesquisa_satisfacao", 0.5,
           "business", "service"),
    Stream(None, "Atendimento", AGENTS, None, 1.6, "service", "service"),
)

# Relative volume per weekday (Monday first) and per local hour (0-23).
WEEK_PROFILES: dict[str, tuple[float, ...]] = {
    "business": (1.0, 1.0, 1.0, 1.0, 1.0, 0.45, 0.2),
    "transactional": (1.0, 1.0, 1.0, 1.0, 1.05, 0.85, 0.75),
    "service": (1.0, 1.0, 1.0, 1.0, 1.0, 0.6, 0.4),
}
HOUR_PROFILES: dict[str, tuple[float, ...]] = {
    "business": (0.1, 0.05, 0.03, 0.03, 0.03, 0.08, 0.3, 0.9, 2.4, 3.2, 3.3, 3.0, 2.0, 2.3, 2.8,
                 2.9, 2.6, 2.3, 1.9, 1.7, 1.5, 1.0, 0.5, 0.25),
    "service": (0.35, 0.2, 0.12, 0.1, 0.1, 0.2, 0.5, 1.2, 2.2, 2.8, 3.0, 2.8, 2.4, 2.6, 2.8,
                2.8, 2.6, 2.4, 2.2, 2.3, 2.1, 1.7, 1.1, 0.6),
    "around_the_clock": (0.7, 0.5, 0.35, 0.3, 0.3, 0.4, 0.9, 1.5, 2.0, 2.2, 2.3, 2.3, 2.2, 2.2, 2.3,
                         2.3, 2.2, 2.2, 2.2, 2.2, 2.0, 1.8, 1.4, 1.0),
}

# What agents send inside a customer-service window: content type -> (message, weight). None: no text.
SESSION_MESSAGES: dict[str, tuple[tuple[str | None, float], ...]] = {
    "text": (
        ("Olá, {nome}! Aqui é do atendimento. Como posso ajudar? 😊", 3.0),
        ("Seu pedido já saiu para entrega 🚚 e chega até amanhã.", 1.0),
        ("Prontinho, {nome}! Sua solicitação foi registrada com o protocolo {pedido}.", 1.5),
        ("Obrigada pelo contato! Qualquer dúvida, é só chamar por aqui. 💚", 1.5),
        ("Consegue me enviar o CPF do titular, por favor?", 1.0),
        ("Entendo, {nome}. Vou verificar com o setor financeiro e já retorno.", 1.0),
        ("O estorno de R$ {valor} será creditado em até 2 faturas.", 0.6),
    ),
    "interactive": (("Como podemos ajudar? Escolha uma opção abaixo 👇", 1.0),),
    "image": (("Confira as ofertas da semana! 🛍️", 1.0), ("Segue a foto do produto que você pediu 📸", 1.0)),
    "document": (("Boleto_2ª_via.pdf", 1.0), ("Nota fiscal nº {pedido}.pdf", 1.0)),
    "audio": ((None, 1.0),),
    "video": (("Veja como é fácil pagar com Pix 🎥", 1.0),),
    "location": (("Loja Paulista – Av. Paulista, 1578, Bela Vista, São Paulo", 1.0),),
    "sticker": ((None, 1.0),),
    "other": (("Contato: Central de Atendimento +55 11 4003-1234", 1.0),),
}
SESSION_CONTENT_WEIGHTS: dict[str, float] = {
    "text": 0.55, "interactive": 0.15, "image": 0.09, "document": 0.07, "audio": 0.04,
    "video": 0.03, "location": 0.02, "sticker": 0.02, "other": 0.03,
}
# Reply buttons of the interactive menu agents send (interactive.button_reply when clicked).
MENU_BUTTONS: tuple[tuple[str, str], ...] = (
    ("MENU_2VIA", "2ª via de boleto"),
    ("MENU_PEDIDO", "Status do pedido"),
    ("MENU_ATENDENTE", "Falar com atendente"),
)

# What customers write: free-text answers to an MT, and first messages that open a service window.
REPLIES: dict[str, tuple[tuple[str | None, float], ...]] = {
    "text": (
        ("Obrigado! 😊", 3.0),
        ("Quero saber mais", 2.0),
        ("Já paguei, obrigada", 1.5),
        ("Qual o prazo de entrega?", 1.2),
        ("Não reconheço essa cobrança 😡", 0.8),
        ("SAIR", 1.0),
        ("Pode me ligar amanhã de manhã?", 0.7),
        ("Ótimo, até amanhã!", 0.8),
        ("👍", 1.5),
        ("Vocês têm loja em São José dos Campos?", 0.5),
        ("Não consigo acessar o aplicativo, aparece erro no login", 0.6),
        ("Parcela em quantas vezes sem juros?", 0.7),
    ),
    "image": (("Segue o comprovante 🧾", 2.0), (None, 1.0)),
    "audio": ((None, 1.0),),
    "document": (("comprovante_pix.pdf", 1.0),),
    "location": (("Rua Treze de Maio, 452 – Bela Vista, São Paulo", 1.0),),
    "sticker": ((None, 1.0),),
    "contacts": (("Conceição Aparecida +55 11 98765-4321", 1.0),),
}
REPLY_CONTENT_WEIGHTS: dict[str, float] = {
    "text": 0.86, "image": 0.05, "audio": 0.04, "document": 0.015, "location": 0.01, "sticker": 0.015,
    "contacts": 0.01,
}
OPENERS: tuple[tuple[str, float], ...] = (
    ("Oi, boa tarde! Gostaria de saber sobre meu pedido", 2.0),
    ("Bom dia! Preciso da segunda via do boleto", 1.5),
    ("Olá, meu produto chegou com defeito 😞", 1.0),
    ("Oi! Vocês entregam em Florianópolis?", 0.8),
    ("Quero cancelar minha assinatura", 0.6),
    ("Olá, tudo bem? Como faço para trocar um item?", 1.0),
)
# Click-to-WhatsApp ad entry points (free entry point conversations): the opener and its referral.
AD_OPENERS: tuple[tuple[str, str], ...] = (
    (
        "Olá! Vi o anúncio e quero saber mais 😍",
        '{"source_url":"https://fb.me/8sKq2VxRt","source_type":"ad","source_id":"120210553218870412",'
        '"headline":"Frete grátis para todo o Brasil 🚚","body":"Fale com a gente pelo WhatsApp!","media_type":"image"}',
    ),
    (
        "Oi, quero aproveitar a promoção do Instagram",
        '{"source_url":"https://www.instagram.com/p/C9xPromoVerao/","source_type":"post",'
        '"source_id":"120210553219940177","headline":"Coleção Verão ☀️ com 30% OFF","body":"Chama no WhatsApp",'
        '"media_type":"video"}',
    ),
)

FIRST_NAMES = (
    "João", "Conceição", "Maria", "José", "Antônio", "Luíza", "Sebastião", "Fátima", "Lúcia", "André",
    "Márcio", "Cecília", "Inês", "Mônica", "Vitória", "Thaís", "Flávia", "Caio", "Débora", "Érica",
    "Júlia", "Ângela", "Benedito", "Joaquim", "Iara", "Tânia", "Raimundo", "Francisca", "Gabriel",
    "Letícia", "Rafael", "Beatriz", "Lucas", "Ana", "Pedro", "Camila", "Matheus", "Bruna", "Otávio",
    "Simone", "Valéria", "Rogério", "Aurélio", "Patrícia", "Jéssica", "Cauã", "Heloísa", "Davi",
)
LAST_NAMES = (
    "Silva", "Santos", "Oliveira", "Souza", "Conceição", "Araújo", "Gonçalves", "Ribeiro", "Lima",
    "Pereira", "Carvalho", "Gomes", "Assunção", "Magalhães", "Brandão", "Simões", "Falcão", "Monteiro",
    "Nascimento", "Guimarães", "Teixeira", "Moraes", "Mendonça", "Barbosa", "Castro",
)
PROFILE_EMOJI = ("🌻", "✨", "💙", "🙏", "⚽", "🌸", "😎")

# (country calling code, area codes with weights, share of contacts). Argentina: mobile prefix 9.
COUNTRIES: tuple[tuple[str, tuple[tuple[str, float], ...], float], ...] = (
    ("55", (("11", 30), ("21", 10), ("31", 7), ("41", 5), ("51", 5), ("61", 4), ("71", 4), ("81", 4),
            ("85", 4), ("19", 4), ("27", 3), ("48", 3), ("62", 3), ("92", 2), ("91", 2), ("84", 2),
            ("98", 2), ("67", 2), ("13", 2), ("47", 2), ("83", 2)), 0.94),
    ("549", (("11", 1.0),), 0.04),
    ("52", (("55", 3), ("33", 2), ("81", 1)), 0.02),
)

CORRELATION_PREFIXES: dict[str, str] = {
    "Matriz São Paulo": "PED-",
    "Filial Nordeste": "crm-ne-",
    "Cobrança": "COB",
    "Clínica Vida & Saúde": "AGD-",
    "Atendimento": "SAC-",
}


@dataclass(frozen=True)
class ProviderError:
    route: str
    code: str
    title: str
    detail: str
    weight: float = 1.0


# Failure status -> the provider errors that produce it (Meta codes match catalog.META_ERROR_STATUS,
# Sinch codes match catalog.SINCH_LATAM_CODE_STATUS). WarmUp blocks come from the platform itself,
# which has no provider code for them.
ERRORS: dict[str, tuple[ProviderError, ...]] = {
    "ttl_expired": (
        ProviderError(SINCH, "101", "EXPIRED", "Mensagem expirada: o tempo de vida (TTL) acabou antes da entrega."),
    ),
    "carrier_failure": (
        ProviderError(META, "131053", "Media upload error", "Unable to upload the media used in the message."),
        ProviderError(SINCH, "102", "CARRIER_COMMUNICATION_ERROR", "Erro ao enviar a mídia para o WhatsApp."),
    ),
    "carrier_rejected": (
        ProviderError(SINCH, "103", "REJECTED_BY_CARRIER", "Ocorreu um erro na base de dados da operadora."),
    ),
    "undelivered": (
        ProviderError(META, "131026", "Message undeliverable",
                      "Unable to deliver message. Reasons can include: the recipient phone number is not a "
                      "WhatsApp phone number; the recipient has not accepted the new Terms of Service.", 2.0),
        ProviderError(META, "131049", "This message was not delivered to maintain healthy ecosystem engagement.",
                      "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.", 3.0),
        ProviderError(META, "130472", "User's number is part of an experiment",
                      "Failed to send message because this user's phone number is part of an experiment.", 0.5),
        ProviderError(SINCH, "104", "NOT_DELIVERED",
                      "Mensagem não entregue: limite atingido, número em experimento, template indisponível ou "
                      "fora da janela de 24 horas.", 3.0),
    ),
    "invalid_number": (
        ProviderError(SINCH, "202", "INVALID_DESTINATION_NUMBER", "Contato de WhatsApp inválido."),
    ),
    "opt_out": (
        ProviderError(META, "131050", "Unable to deliver the message",
                      "This recipient has chosen to stop receiving marketing messages on WhatsApp from your business."),
        ProviderError(SINCH, "204", "DESTINATION_BLOCKED_BY_OPTOUT", "Destino bloqueado por opt-out."),
    ),
    "invalid_session": (
        ProviderError(META, "131047", "Re-engagement message",
                      "Message failed to send because more than 24 hours have passed since the customer last "
                      "replied to this number."),
        ProviderError(SINCH, "210", "INVALID_SESSION",
                      "Sessão ou janela de atendimento não está aberta e nenhum template de fallback está configurado."),
    ),
    "internal_error": (
        ProviderError(META, "131000", "Something went wrong", "Message failed to send due to an unknown error."),
        ProviderError(META, "131016", "Service unavailable", "A service is temporarily unavailable. Please try again later."),
        ProviderError(SINCH, "311", "INTERNAL_ERROR", "Não foi possível verificar os contatos na API do WhatsApp."),
    ),
    "invalid_content": (
        ProviderError(META, "132000", "Number of parameters does not match the expected number of params",
                      "The number of variable parameter values included in the request did not match the number "
                      "of variable parameters defined in the template."),
        ProviderError(META, "132001", "Template name does not exist in the translation",
                      "The template does not exist in the specified language or has not been approved."),
        ProviderError(META, "132012", "Parameter format does not match format in the created template",
                      "Variable parameter values formatted incorrectly.", 2.0),
        ProviderError(META, "132015", "Template is Paused",
                      "Template is paused due to low quality so it cannot be sent in a template message."),
        ProviderError(SINCH, "209", "INVALID_CONTENT", "Tipo de conteúdo inválido para envio. Revise seu template."),
        ProviderError(SINCH, "206", "INVALID_MESSAGE_LENGTH", "A mensagem é longa demais.", 0.5),
    ),
    "warmup_blocked": (
        ProviderError(SINCH, "WARMUP", "WARMUP_BLOCKED",
                      "Mensagem bloqueada por WarmUp: o programa de aquecimento está subindo o tier do número "
                      "e só os envios programados por ele são realizados."),
    ),
    "tier_limit": (
        ProviderError(META, "130429", "Rate limit hit", "Cloud API message throughput has been reached."),
        ProviderError(META, "131048", "Spam rate limit hit",
                      "Message failed to send because there are restrictions on how many messages can be sent "
                      "from this phone number."),
        ProviderError(META, "131056", "(Business Account, Consumer Account) pair rate limit hit",
                      "Too many messages sent from the sender phone number to the same recipient phone number "
                      "in a short period of time."),
        ProviderError(SINCH, "201", "NO_CREDIT", "Limite de mensagens da conta ou subconta excedido."),
        ProviderError(SINCH, "205", "DESTINATION_MESSAGE_LIMIT_REACHED", "Limite diário de mensagens do tier atingido."),
    ),
    "invalid_parameter": (
        ProviderError(META, "131008", "Required parameter is missing", "The request is missing a required parameter."),
        ProviderError(META, "131009", "Parameter value is not valid", "One or more parameter values are invalid."),
        ProviderError(SINCH, "207", "INVALID_MESSAGE_TEXT", "Valor de parâmetro inválido."),
        ProviderError(SINCH, "211", "DESTINATION_BLOCKED_BY_OPTIN", "Destino sem opt-in para receber mensagens."),
    ),
}

# Status mix per kind of MT. Templates: 74.5% delivered or read; service replies reach people who just
# wrote but fail when the window has closed; overall about 75%.
TEMPLATE_STATUS_WEIGHTS: dict[str, float] = {
    "sent": 0.05, "delivered": 0.31, "read": 0.435, "ttl_expired": 0.008, "carrier_failure": 0.008,
    "carrier_rejected": 0.007, "undelivered": 0.07, "invalid_number": 0.035, "opt_out": 0.022,
    "internal_error": 0.009, "invalid_content": 0.013, "warmup_blocked": 0.007, "tier_limit": 0.013,
    "invalid_parameter": 0.013,
}
SESSION_STATUS_WEIGHTS: dict[str, float] = {
    "sent": 0.05, "delivered": 0.28, "read": 0.50, "invalid_session": 0.08, "undelivered": 0.04,
    "internal_error": 0.015, "invalid_content": 0.015, "carrier_failure": 0.01, "invalid_parameter": 0.01,
}

# Sinch Messaging LATAM status names kept as status_raw for its rows (failures: the error's title;
# Meta rows keep Meta's words: sent, delivered, read, failed).
SINCH_STATUS_NAME: dict[str, str] = {"sent": "SENT_SUCCESS", "delivered": "DELIVERED_SUCCESS", "read": "READ_SUCCESS"}
